#!/usr/bin/env python3
r"""Cross-check `pgadvisor workload` counts against pgbadger on the same log.

Usage:
  bench/compare-pgbadger.py LOG [--pgadvisor PATH] [--pgbadger-json FILE]
                                [--pgadvisor-json FILE] [-j N] [--rerun-pgbadger]
                                [--show N] [--no-log-scan]

  --pgadvisor PATH      binary to run (default target/release/pgadvisor, relative
                        to the repository root); it is run as
                        `PATH workload LOG --format json --top 0`
  --pgadvisor-json FILE use a saved pgadvisor JSON instead of running the binary
  --pgbadger-json FILE  pgbadger `-x json` output to reuse; created with
                        bench/pgbadger-json.sh if it does not exist. Default:
                        reuse <logdir>/<stem>.pgbadger-j1.json or
                        <stem>.pgbadger-j2.json if newer than the log, otherwise
                        run pgbadger -j N (default 1) into <stem>.pgbadger-jN.json
  --show N              rows per detail table (default 15)
  --no-log-scan         skip the independent line scan of the log

Exit status: 0 when everything both tools count agrees, 1 on any mismatch,
2 on usage/tool errors (missing binary, unreadable JSON, pgbadger failure).

=============================================================================
pgbadger 12.0 `-x json` structure (it is a dump of its internal Perl hashes;
see dump_as_json() in /usr/bin/pgbadger). <db> below is pgbadger's report
"database": without --dbname/-E it is always the literal "postgres" ($DBALL),
whatever the real database names are; we sum over all of them anyway.

  nlines                                   total lines read (with -j N it can be
                                           off by a few: chunk boundaries)
  log_files                                [input paths]
  logs_type{<db>}{LOG|DETAIL|ERROR...}     lines per severity
  overall_stat{queries_number}             statements counted (all dbs)
  overall_stat{errors_number}              ERROR/FATAL/PANIC events
  overall_stat{<db>}{queries_number}       statements counted for <db>
  overall_stat{<db>}{select|insert|update|delete|ddl|tcl|cte|copy from|
                     copy to|cursor}       per-kind statement counts.
                                           NOTE: the "others" kind is NOT kept
                                           here (or in per_minute_info)...
  database_info{<db>}{<dbname>}{count, <kind>, "<kind>|duration", duration}
                                           ...but IS kept here, so this is the
                                           complete per-kind source we use
                                           (same in user_info, host_info,
                                           application_info)
  overall_stat{<db>}{queries_duration}{execute|prepare|bind}
                                           total ms of statement/execute lines,
                                           of parse lines, of bind lines
  normalyzed_info{<db>}{<normalized query>}{count, duration, min, max,
                     chronos{day}{hour}{count,...}, samples{ms}{query,...},
                     users{u}{count,duration}, apps{...}}
                                           the per-fingerprint data: `count` =
                                           executions, `duration` = total ms
                                           (execute/statement durations only)
  per_minute_info{<db>}{YYYYMMDD}{HH}{MM}{prepare|bind|execute}
                                           counts of parse / bind / execute
                                           log lines (the only usable copy of
                                           these: the top-level
                                           overall_stat{prepare|bind|execute}
                                           counters are clobbered into per-db
                                           stub hashes before the dump)
  per_minute_info{<db>}{day}{h}{m}{query}{count,duration}, {<kind>}{count,...}
  top_slowest{<db>}[[ms, date, query, db, user, ...]]
  error_info{<db>}{<normalized error>}{count,...}

Per-kind classification in pgbadger (store_queries(), $action_regex): the
first word of the normalized text after optional blanks/"(":
  select insert update delete -> themselves; create|drop|alter|truncate -> ddl;
  begin|commit|rollback|start|end|savepoint -> tcl; with -> cte; copy ->
  "copy from"/"copy to"; declare|close|fetch|move -> cursor; anything else
  (vacuum, set, show, values, abort, release, grant, ...) -> others.
pgadvisor classifies differently (WITH by its top-level verb; grant/comment/
reindex/cluster/refresh... -> ddl; abort/release -> tcl; values/table ->
select). To compare like with like, the strict per-kind check re-buckets
pgbadger's per-query counts with a Python port of pgadvisor's rules
(StatementKind::classify in src/workload/fingerprint.rs, see
pgadvisor_kind() below); pgbadger's own per-kind numbers are printed for
information and checked only for self-consistency.

How pgbadger counts the extended protocol (parse_query(), with
log_min_duration_statement = 0):
  "duration: X ms  parse <name>: ..." -> per_minute_info{prepare}++,
        queries_duration{prepare} += X, NOT a query;
  "duration: X ms  bind <name>: ..."  -> per_minute_info{bind}++,
        queries_duration{bind} += X, NOT a query;
  "duration: X ms  execute <name>: ..." -> ONE query (queries_number, kind,
        normalyzed_info count), duration X; the following
        "DETAIL:  parameters: $1 = '...', ..." line's values are substituted
        into the text and then normalized away again;
  "duration: X ms  statement: ..." (simple protocol) -> ONE query.
So pgbadger, like pgadvisor, counts one call per execute line; call counts
compare like with like without adjustment. Only durations differ in scope:
pgbadger's normalyzed_info duration is the execute time alone, while its
"Total query duration" adds parse and bind time.

Mapping both normalized texts to a common key (canonical_key()):
  pgbadger: lowercase; '...' -> ?; numbers -> ? (a decimal becomes ?.?);
            $n -> ?; "= null" -> "= ?"; IN (?, ?, ...) -> in (...); comments
            removed; whitespace collapsed; ";" appended.
  pgadvisor: lowercase (outside quoted identifiers); literals -> $1..$n;
            identical-constant IN/ARRAY/VALUES lists folded to one item
            (IN (1,2,3) -> in ($1)); compact spacing ("count(*)").
  Applied to BOTH sides, in order:
   1. lowercase everything (also quoted identifiers; pgbadger keeps their case)
   2. drop /* */ and -- comments
   3. $n -> ?; any remaining '...' string -> ?; bare numbers -> ?
   4. pgbadger's remains of non-trivial literals -> ?: decimals ?.? and .?,
      exponents ?.?e3, hex ?x1f, prefixed strings e? b? x? n? u&?
   5. a unary minus before ? after an operator, "(", "," or a keyword -> ?
      (pgbadger eats "-5" whole; pgadvisor folds the sign into the literal)
   6. "= null" -> "= ?" (pgbadger treats it as a literal)
   7. IN ( ?, ?, ... ) or IN ( ? ) -> in (...); ARRAY[?, ...] -> array[...];
      IN lists of identical items (e.g. ?::date, ?::date) -> one item;
      VALUES (row), (row) with identical rows -> one row
   8. ?? -> ? (pgbadger's escaped-quote remains)
   9. tokenize and re-join with single spaces (spacing-insensitive), drop
      trailing ";"
  Several fingerprints can map to one key (e.g. if a tool keeps IN lists of
  different lengths apart); calls are summed per key and such keys listed.
  Second pass ("loose" key): entries that did not match exactly with equal
  counts are regrouped by the key with every ?, (...), punctuation and
  repeated list item removed. A loose group whose call totals agree is
  reported as "reconciled" (typically: pgbadger -j N chunk-boundary
  artifacts such as "abalance + where aid =" whose DETAIL parameters landed
  in the other chunk, or normalization spelling differences); one that does
  not agree is a mismatch.
  Third pass: a pgbadger-only entry whose loose key is a word prefix of a
  key where pgbadger is short by exactly its calls is folded into it
  (pgbadger -j N cut a multi-line statement at a chunk boundary and counted
  the first lines as a query of their own; seen on distinct.log with -j 2).
=============================================================================
"""

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
KINDS = ["select", "insert", "update", "delete", "ddl", "tcl", "other"]
PGB_KINDS = ["select", "insert", "update", "delete", "ddl", "tcl", "cte",
             "copy from", "copy to", "cursor", "others"]


def die(msg, code=2):
    print(f"compare-pgbadger: {msg}", file=sys.stderr)
    sys.exit(code)


# --------------------------------------------------------------------------
# canonical keys
# --------------------------------------------------------------------------
RE_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.S)
RE_LINE_COMMENT = re.compile(r"--[^\n]*")
RE_DOLLAR_PARAM = re.compile(r"\$\d+")
RE_STRING = re.compile(r"'(?:[^']|'')*'")
RE_NUMBER = re.compile(r"(?<![\w$.?])(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?(?![\w])")
RE_DECIMAL_REMAINS = re.compile(
    r"\?(?:\.\?)*e[+-]?(?:\d+|\?)(?![\w])|\?(?:\s*\.\s*\?)+|(?<![\w?)\]\"])\.\?|\?x[0-9a-f]+\b")
RE_PREFIXED_STRING = re.compile(r"(?<![\w$])(?:[ebxn]|u&)\?")
RE_UNARY_MINUS = re.compile(
    r"([=<>+\-*/%(,\[]|\b(?:select|where|and|or|not|between|then|else|when|values|by|limit|offset|in|is|return|returning|set)\b)\s*-\s*\?")
RE_EQ_NULL = re.compile(r"=\s*null\b")
RE_IN_PLACEHOLDERS = re.compile(r"\bin\s*\(\s*(?:\?|\.\.\.)(?:\s*,\s*(?:\?|\.\.\.))*\s*\)")
RE_ARRAY_PLACEHOLDERS = re.compile(r"\barray\s*\[\s*\?(?:\s*,\s*\?)*\s*\]")
RE_MULTI_Q = re.compile(r"\?(?:\s*\?)+")
RE_TOKEN = re.compile(
    r'"(?:[^"]|"")*"|\.\.\.|\?|[a-z_][a-z0-9_$]*|\d+|::|<=|>=|<>|!=|\|\||->>|->|[^\s]')


def _fold_identical_in_items(s):
    # in (X, X, X) -> in (X) when all items are the same (after step 3-6),
    # e.g. "in (?::date, ?::date)"; only parenthesis-free items.
    def repl(m):
        items = [i.strip() for i in m.group(1).split(",")]
        if len(items) > 1 and all(i == items[0] for i in items):
            return f"in ({items[0]})"
        return m.group(0)
    return re.sub(r"\bin\s*\(([^()]*)\)", repl, s)


def _fold_identical_values_rows(s):
    return re.sub(r"(\bvalues\s*)(\([^()]*\))(?:\s*,\s*\2)+", r"\1\2", s)


def canonical_key(text):
    s = text.lower()
    s = RE_BLOCK_COMMENT.sub(" ", s)
    s = RE_LINE_COMMENT.sub(" ", s)
    s = RE_DOLLAR_PARAM.sub("?", s)
    s = RE_STRING.sub("?", s)
    s = RE_NUMBER.sub("?", s)
    s = RE_DECIMAL_REMAINS.sub("?", s)
    s = RE_PREFIXED_STRING.sub("?", s)
    s = RE_UNARY_MINUS.sub(r"\1 ?", s)
    s = RE_EQ_NULL.sub("= ?", s)
    s = RE_MULTI_Q.sub("?", s)
    s = RE_IN_PLACEHOLDERS.sub("in (...)", s)
    s = RE_ARRAY_PLACEHOLDERS.sub("array[...]", s)
    s = _fold_identical_in_items(s)
    s = _fold_identical_values_rows(s)
    s = RE_IN_PLACEHOLDERS.sub("in (...)", s)
    toks = RE_TOKEN.findall(s)
    while toks and toks[-1] == ";":
        toks.pop()
    return " ".join(toks)


def loose_key(key):
    """Very forgiving key: words only, placeholders/punctuation dropped and
    consecutive repeated words collapsed."""
    words = re.findall(r"[a-z_][a-z0-9_$.]*", key.replace("(...)", " "))
    out = []
    for w in words:
        if not out or out[-1] != w:
            out.append(w)
    return " ".join(out)


# --------------------------------------------------------------------------
# statement kinds
# --------------------------------------------------------------------------
def _top_level_words(text):
    depth = 0
    for tok in RE_TOKEN.findall(text.lower()):
        if tok in ("(", "["):
            depth += 1
        elif tok in (")", "]"):
            depth = max(0, depth - 1)
        elif depth == 0 and re.match(r"[a-z_]", tok):
            yield tok


DDL_WORDS = {"create", "alter", "drop", "truncate", "comment", "grant", "revoke",
             "reindex", "cluster", "refresh", "security", "import"}
TCL_WORDS = {"begin", "start", "commit", "end", "rollback", "abort", "savepoint",
             "release"}


def pgadvisor_kind(text):
    """Python port of pgadvisor's StatementKind::classify
    (src/workload/fingerprint.rs): leading top-level word, WITH by the first
    top-level verb after the CTEs."""
    words = _top_level_words(text)
    first = next(words, None)
    if first is None:
        return "other"
    if first == "with":
        for w in words:
            if w in ("select", "values", "table"):
                return "select"
            if w == "insert":
                return "insert"
            if w in ("update", "merge"):
                return "update"
            if w == "delete":
                return "delete"
        return "select"
    if first in ("select", "values", "table"):
        return "select"
    if first == "insert":
        return "insert"
    if first in ("update", "merge"):
        return "update"
    if first == "delete":
        return "delete"
    if first in DDL_WORDS:
        return "ddl"
    if first in TCL_WORDS:
        return "tcl"
    if first == "prepare":
        return "tcl" if next(words, None) == "transaction" else "other"
    return "other"


# --------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------
def load_json(path, what):
    try:
        with open(path, "rb") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        die(f"cannot read {what} JSON {path}: {e}")


def get_pgbadger(log, args):
    log = Path(log)
    stem = log.name[:-4] if log.name.endswith(".log") else log.name
    if args.pgbadger_json:
        target = Path(args.pgbadger_json)
        if target.exists() and not args.rerun_pgbadger:
            if target.stat().st_mtime < log.stat().st_mtime:
                print(f"note: {target} is older than {log}; pass --rerun-pgbadger if the log changed",
                      file=sys.stderr)
            return target, False
    else:
        if not args.rerun_pgbadger:
            for j in (1, 2):
                cand = log.parent / f"{stem}.pgbadger-j{j}.json"
                if cand.exists() and cand.stat().st_mtime >= log.stat().st_mtime:
                    print(f"reusing {cand}", file=sys.stderr)
                    return cand, False
        target = log.parent / f"{stem}.pgbadger-j{args.jobs}.json"
        if not os.access(log.parent, os.W_OK):
            target = Path(tempfile.mkdtemp(prefix="compare-pgbadger.")) / f"{stem}.json"
    print(f"running pgbadger -j {args.jobs} -> {target} (slow: ~1-2 MB/s)", file=sys.stderr)
    r = subprocess.run([str(HERE / "pgbadger-json.sh"), str(log), str(target), "-j", str(args.jobs)])
    if r.returncode != 0:
        die("pgbadger-json.sh failed")
    return target, True


def get_pgadvisor(log, args):
    if args.pgadvisor_json:
        return load_json(args.pgadvisor_json, "pgadvisor"), None
    exe = Path(args.pgadvisor)
    if not exe.is_absolute() and not exe.exists():
        exe = REPO / exe
    if not exe.exists():
        die(f"pgadvisor binary not found: {exe} (build it with `cargo build --release`, "
            f"or pass --pgadvisor PATH / --pgadvisor-json FILE)")
    cmd = [str(exe), "workload", str(log), "--format", "json", "--top", "0"]
    t0 = time.monotonic()
    with tempfile.TemporaryFile() as out:
        r = subprocess.run(cmd, stdout=out)
        elapsed = time.monotonic() - t0
        if r.returncode != 0:
            die(f"`{' '.join(cmd)}` exited with status {r.returncode}")
        out.seek(0)
        try:
            data = json.load(out)
        except ValueError as e:
            die(f"pgadvisor output is not JSON: {e}")
    return data, elapsed


def scan_log(log):
    """Independent count of duration lines by type (no multi-line handling
    needed: the duration header is always on the prefixed line)."""
    rx = re.compile(rb" LOG:  duration: [0-9.]+ ms  (statement|execute|parse|bind)[ :]")
    counts = defaultdict(int)
    with open(log, "rb", buffering=1 << 20) as f:
        for line in f:
            counts["lines"] += 1
            if b"LOG:  duration: " in line:
                m = rx.search(line)
                if m:
                    counts[m.group(1).decode()] += 1
    return counts


# --------------------------------------------------------------------------
# pgbadger extraction
# --------------------------------------------------------------------------
def pgbadger_summary(pgb):
    res = {}
    ni = pgb.get("normalyzed_info") or {}
    queries = defaultdict(lambda: [0, 0.0])
    for db, qs in ni.items():
        for q, info in qs.items():
            queries[q][0] += int(info.get("count") or 0)
            queries[q][1] += float(info.get("duration") or 0.0)
    res["queries"] = queries
    ost = pgb.get("overall_stat") or {}
    res["queries_number"] = ost.get("queries_number")
    res["errors_number"] = ost.get("errors_number")
    kinds = defaultdict(int)
    for db, dbs in (pgb.get("database_info") or {}).items():
        for dbname, info in dbs.items():
            for k in PGB_KINDS:
                v = info.get(k)
                if isinstance(v, (int, float)):
                    kinds[k] += int(v)
    res["kinds"] = kinds
    pbe = defaultdict(int)
    for db, days in (pgb.get("per_minute_info") or {}).items():
        for day, hours in days.items():
            for h, mins in hours.items():
                for m, v in mins.items():
                    for k in ("prepare", "bind", "execute"):
                        x = v.get(k)
                        if isinstance(x, (int, float)):
                            pbe[k] += int(x)
    res["parse_bind_execute"] = pbe
    dur = defaultdict(float)
    for db, v in ost.items():
        if isinstance(v, dict) and isinstance(v.get("queries_duration"), dict):
            for k, x in v["queries_duration"].items():
                dur[k] += float(x or 0)
    res["durations"] = dur
    res["nlines"] = pgb.get("nlines")
    return res


# --------------------------------------------------------------------------
# markdown helpers
# --------------------------------------------------------------------------
def fmt(v):
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.1f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def table(headers, rows, align=None):
    """align: one char per column, l or r (default: first l, rest r)."""
    align = align or "l" + "r" * (len(headers) - 1)
    out = ["| " + " | ".join(headers) + " |",
           "|" + "|".join("---" if a == "l" else "---:" for a in align) + "|"]
    for r in rows:
        out.append("| " + " | ".join(fmt(c) for c in r) + " |")
    return "\n".join(out)


def short(q, n=110):
    q = " ".join(q.split())
    q = q.replace("|", "\\|")
    return q if len(q) <= n else q[: n - 1] + "…"


# --------------------------------------------------------------------------
def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("log")
    ap.add_argument("--pgadvisor", default="target/release/pgadvisor")
    ap.add_argument("--pgadvisor-json")
    ap.add_argument("--pgbadger-json")
    ap.add_argument("-j", "--jobs", type=int, default=1)
    ap.add_argument("--rerun-pgbadger", action="store_true")
    ap.add_argument("--show", type=int, default=15)
    ap.add_argument("--no-log-scan", action="store_true")
    args = ap.parse_args()

    log = Path(args.log)
    if not log.is_file():
        die(f"no such log: {log}")

    adv, adv_elapsed = get_pgadvisor(log, args)
    if adv.get("schema_version") != 1:
        print(f"warning: pgadvisor schema_version={adv.get('schema_version')!r}, expected 1",
              file=sys.stderr)
    pgb_path, _ = get_pgbadger(log, args)
    pgb = pgbadger_summary(load_json(pgb_path, "pgbadger"))
    scan = None if args.no_log_scan else scan_log(log)

    failures = []
    asum = adv.get("summary") or {}
    afps = adv.get("fingerprints") or []

    print(f"## pgadvisor vs pgbadger: `{log}`\n")
    print(f"pgbadger JSON: `{pgb_path}`" + (f"; pgadvisor run took {adv_elapsed:.2f} s" if adv_elapsed else ""))
    print()

    # ---- totals & extended protocol ------------------------------------
    rows = []
    a_exec = asum.get("executions")
    b_exec = pgb["queries_number"]
    scan_exec = (scan["statement"] + scan["execute"]) if scan else None
    ok = a_exec == b_exec
    if not ok:
        failures.append("total statements")
    rows.append(["statements (calls)", a_exec, b_exec, scan_exec, "ok" if ok else "**MISMATCH**"])
    a_lines = sum(int(i.get("lines") or 0) for i in asum.get("inputs") or []) or None
    rows.append(["log lines", a_lines, pgb["nlines"], scan["lines"] if scan else None,
                 "info (pgbadger -j N may count a boundary line twice)"])
    pbe = pgb["parse_bind_execute"]
    if scan:
        rows.append(["  simple-protocol `statement:` lines", None, None, scan["statement"], "info"])
    rows.append(["  extended `execute` lines (= calls)", None, pbe.get("execute"),
                 scan["execute"] if scan else None, "info"])
    rows.append(["  extended `parse` lines (not calls)", None, pbe.get("prepare"),
                 scan["parse"] if scan else None, "info"])
    rows.append(["  extended `bind` lines (not calls)", None, pbe.get("bind"),
                 scan["bind"] if scan else None, "info"])
    sum_calls = sum(int(f.get("calls") or 0) for f in afps)
    rows.append(["sum of fingerprint calls", sum_calls, sum(v[0] for v in pgb["queries"].values()), None,
                 "ok" if sum_calls == a_exec else "**pgadvisor: != executions**"])
    if sum_calls != a_exec:
        failures.append("pgadvisor fingerprint calls do not sum to executions")
    rows.append(["fingerprints / normalized queries", asum.get("fingerprints"), len(pgb["queries"]), None,
                 "info"])
    if asum.get("fingerprints") is not None and asum.get("fingerprints") != len(afps):
        rows.append(["  fingerprints listed (--top 0)", len(afps), None, None,
                     "**--top 0 did not list all**"])
        failures.append("--top 0 did not list all fingerprints")
    rows.append(["errors", asum.get("errors"), pgb["errors_number"], None, "info"])
    a_ms = sum(float(f.get("total_ms") or 0) for f in afps)
    b_ms = sum(v[1] for v in pgb["queries"].values())
    rows.append(["total ms (execute/statement)", round(a_ms, 1), round(b_ms, 1), None,
                 "info" + (f" ({(a_ms - b_ms) / b_ms * 100:+.3f}%)" if b_ms else "")])
    d = pgb["durations"]
    rows.append(["  pgbadger parse + bind ms (not in calls)", None,
                 round(d.get("prepare", 0) + d.get("bind", 0), 1), None, "info"])
    print(table(["metric", "pgadvisor", "pgbadger", "log scan", "status"], rows, "lrrrl"))
    print()

    warns = adv.get("warnings") or []
    if warns:
        print("pgadvisor warnings (info): " + "; ".join(
            f"{w.get('reason')} ×{w.get('count')}" for w in warns[:10]) + "\n")

    # ---- kinds ------------------------------------------------------------
    akinds = asum.get("kinds") or {}
    rebucket = defaultdict(int)
    for q, (cnt, _) in pgb["queries"].items():
        rebucket[pgadvisor_kind(q)] += cnt
    bk = pgb["kinds"]
    native = {
        "select": bk.get("select", 0), "insert": bk.get("insert", 0),
        "update": bk.get("update", 0), "delete": bk.get("delete", 0),
        "ddl": bk.get("ddl", 0), "tcl": bk.get("tcl", 0),
        "other": bk.get("others", 0) + bk.get("cursor", 0) + bk.get("copy from", 0) + bk.get("copy to", 0),
    }
    rows = []
    for k in KINDS:
        a = int(akinds.get(k) or 0)
        b = rebucket.get(k, 0)
        ok = a == b
        if not ok:
            failures.append(f"kind {k}")
        rows.append([k, a, b, native[k], "ok" if ok else "**MISMATCH**"])
    if bk.get("cte"):
        rows.append(["(pgbadger cte)", None, None, bk["cte"], "info: pgbadger-only kind"])
    native_total = sum(bk.get(k, 0) for k in PGB_KINDS)
    if b_exec is not None and native_total != b_exec:
        rows.append(["(pgbadger kinds total)", None, None, native_total,
                     f"info: pgbadger kinds sum != its {b_exec:,} statements"])
    print("### Statements per kind\n")
    print("`pgbadger` = pgbadger's per-query counts re-bucketed with pgadvisor's kind rules "
          "(strict); `pgbadger native` = its own classification (other = others+cursor+copy), info only.\n")
    print(table(["kind", "pgadvisor", "pgbadger", "pgbadger native", "status"], rows, "lrrrl"))
    print()

    # ---- fingerprints -----------------------------------------------------
    A = defaultdict(lambda: {"calls": 0, "ms": 0.0, "n": 0, "texts": [], "kinds": set()})
    for f in afps:
        key = canonical_key(f.get("query") or "")
        e = A[key]
        e["calls"] += int(f.get("calls") or 0)
        e["ms"] += float(f.get("total_ms") or 0)
        e["n"] += 1
        e["kinds"].add(f.get("kind"))
        if len(e["texts"]) < 3:
            e["texts"].append(f.get("query") or "")
    B = defaultdict(lambda: {"calls": 0, "ms": 0.0, "n": 0, "texts": []})
    for q, (cnt, ms) in pgb["queries"].items():
        key = canonical_key(q)
        e = B[key]
        e["calls"] += cnt
        e["ms"] += ms
        e["n"] += 1
        if len(e["texts"]) < 3:
            e["texts"].append(q)

    exact_ok, leftovers = [], set()
    for key in set(A) | set(B):
        if key in A and key in B and A[key]["calls"] == B[key]["calls"]:
            exact_ok.append(key)
        else:
            leftovers.add(key)

    groups = defaultdict(lambda: {"a": [], "b": []})
    for key in leftovers:
        lk = loose_key(key)
        if key in A:
            groups[lk]["a"].append(key)
        if key in B:
            groups[lk]["b"].append(key)
    reconciled, mismatch, only_a, only_b = [], [], [], []
    for lk, g in groups.items():
        ac = sum(A[k]["calls"] for k in g["a"])
        bc = sum(B[k]["calls"] for k in g["b"])
        if g["a"] and g["b"]:
            (reconciled if ac == bc else mismatch).append((lk, g, ac, bc))
        elif g["a"]:
            only_a.append((lk, g, ac, bc))
        else:
            only_b.append((lk, g, ac, bc))

    # Third pass: pgbadger -j N splits the file at byte offsets; a multi-line
    # statement cut by a chunk boundary is counted under a truncated text
    # (a prefix of the real one) and the real key is short by that many calls.
    # Fold such only-in-pgbadger prefixes into a mismatch whose deficit they
    # exactly fill.
    truncated = []
    for item in sorted(mismatch, key=lambda x: -(x[2] - x[3])):
        lk, g, ac, bc = item
        deficit = ac - bc
        if deficit <= 0:
            continue
        cands = sorted((o for o in only_b if lk.startswith(o[0] + " ")), key=lambda o: -o[3])
        take, total = [], 0
        for o in cands:
            if total + o[3] <= deficit:
                take.append(o)
                total += o[3]
        if take and total == deficit:
            for o in take:
                only_b.remove(o)
                g["b"].extend(o[1]["b"])
            mismatch.remove(item)
            reconciled.append((lk, g, ac, bc + total))
            truncated.append((lk, len(take), total))

    def calls_of(lst, side):
        return sum(x[2] if side == "a" else x[3] for x in lst)

    rows = [
        ["matched, equal calls", len(exact_ok), sum(A[k]["calls"] for k in exact_ok),
         sum(B[k]["calls"] for k in exact_ok), "ok"],
        ["reconciled by loose key, equal calls", len(reconciled), calls_of(reconciled, "a"),
         calls_of(reconciled, "b"), "ok"],
        ["call-count mismatch", len(mismatch), calls_of(mismatch, "a"), calls_of(mismatch, "b"),
         "ok" if not mismatch else "**MISMATCH**"],
        ["only in pgadvisor", len(only_a), calls_of(only_a, "a"), 0, "ok" if not only_a else "**MISMATCH**"],
        ["only in pgbadger", len(only_b), 0, calls_of(only_b, "b"), "ok" if not only_b else "**MISMATCH**"],
    ]
    if mismatch:
        failures.append(f"{len(mismatch)} fingerprint count mismatches")
    if only_a:
        failures.append(f"{len(only_a)} fingerprints only in pgadvisor")
    if only_b:
        failures.append(f"{len(only_b)} queries only in pgbadger")
    print("### Per-fingerprint calls (common key, see header of this script)\n")
    print(table(["result", "keys", "pgadvisor calls", "pgbadger calls", "status"], rows, "lrrrl"))
    print()

    # duration agreement on exact matches (info)
    big = [k for k in exact_ok if B[k]["ms"] > 0 and abs(A[k]["ms"] - B[k]["ms"]) / B[k]["ms"] > 0.001]
    if exact_ok:
        print(f"total_ms vs pgbadger duration on matched keys: {len(exact_ok) - len(big)}/{len(exact_ok)} "
              f"within 0.1% (info)\n")

    def detail(title, lst):
        if not lst:
            return
        lst = sorted(lst, key=lambda x: -max(x[2], x[3]))
        print(f"#### {title} ({len(lst)}; top {min(len(lst), args.show)} by calls)\n")
        rows = []
        for lk, g, ac, bc in lst[: args.show]:
            at = "<br>".join(short(t) for k in g["a"] for t in A[k]["texts"][:2])
            bt = "<br>".join(short(t) for k in g["b"] for t in B[k]["texts"][:2])
            rows.append([ac, bc, at or "–", bt or "–"])
        print(table(["pgadvisor calls", "pgbadger calls", "pgadvisor query", "pgbadger query"], rows, "rrll"))
        print()

    detail("Call-count mismatches", mismatch)
    detail("Only in pgadvisor", only_a)
    detail("Only in pgbadger", only_b)
    detail("Reconciled by loose key (text differs, calls agree)", reconciled)
    if truncated:
        print(f"{len(truncated)} of the reconciled keys absorbed {sum(t[2] for t in truncated):,} pgbadger "
              f"call(s) counted under a truncated prefix of the statement (multi-line statement cut at a "
              f"pgbadger -j chunk boundary).\n")

    multi = [(k, A[k]) for k in A if A[k]["n"] > 1]
    if multi:
        multi.sort(key=lambda x: -x[1]["calls"])
        print(f"#### Keys holding several pgadvisor fingerprints ({len(multi)}; info — "
              f"pgadvisor kept apart what the common key merges)\n")
        print(table(["fingerprints", "calls", "examples"],
                    [[e["n"], e["calls"], "<br>".join(short(t) for t in e["texts"])]
                     for k, e in multi[: args.show]], "rrl"))
        print()

    kind_dis = []
    for k in exact_ok:
        pk = {pgadvisor_kind(t) for t in B[k]["texts"]}
        if A[k]["kinds"] and pk and A[k]["kinds"] != pk:
            kind_dis.append((k, A[k]["kinds"], pk))
    if kind_dis:
        print(f"#### Kind disagreements on matched keys ({len(kind_dis)}; info)\n")
        print(table(["pgadvisor kind", "python port of its rules", "query"],
                    [[",".join(sorted(map(str, a))), ",".join(sorted(b)), short(k)]
                     for k, a, b in kind_dis[: args.show]], "lll"))
        print()

    if failures:
        print("**RESULT: MISMATCH** — " + "; ".join(failures))
        return 1
    print("**RESULT: OK** — totals, kinds and per-fingerprint calls agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
