"""Shared pieces of dexter_baseline.py, measure.py and compare.py.

The workload always comes from pgadvisor's own reading of the captured log
(`pgadvisor workload LOG --format json --top 1000 --samples 3`), so the
baseline, the measurements and `recommend-indexes` all see the same
fingerprints, call counts and sample parameters. --workload-json reads a
saved copy of that document instead (run.sh saves one; before the binary
existed, a hand-made file of the same shape).

Statements are planned and run from a sample's original text (`statement`,
with its $n placeholders) and its logged parameter values, never from the
normalized `query`: normalization turns every constant into $n, including
the ones an index depends on (`payload->>'kind'`, `status = 'cancelled'`,
`LIMIT 20`), so only the sample is the statement the application sent.
"""

import json
import os
import re
import statistics
import subprocess
import sys

try:
    import psycopg
except ImportError:
    sys.exit("psycopg is not installed: pip install 'psycopg[binary]' (capture.sh does it)")

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_PGADVISOR = os.path.join(REPO, "target", "release", "pgadvisor")
DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5441/shop"
DEFAULT_LOG = os.path.join(REPO, "bench", "data", "index-advisor", "workload.log")

# What an index can speed up. INSERTs only pay for indexes; measure.py can
# time them too (--kinds), to show that price, but they are not "queries".
READ_WRITE_KINDS = ("select", "update", "delete")


def die(msg, code=2):
    print("%s: error: %s" % (os.path.basename(sys.argv[0]), msg), file=sys.stderr)
    sys.exit(code)


def add_workload_args(ap):
    ap.add_argument("--log", default=DEFAULT_LOG, help="captured workload log (default: %(default)s)")
    ap.add_argument("--workload-json", help="read this saved `pgadvisor workload --format json` output instead of running pgadvisor")
    ap.add_argument("--pgadvisor", default=DEFAULT_PGADVISOR, help="pgadvisor binary (default: %(default)s)")
    ap.add_argument("--dsn", default=DEFAULT_DSN, help="benchmark database (default: %(default)s)")


def load_workload(a):
    """The fingerprints[] of pgadvisor's workload JSON."""
    if a.workload_json:
        try:
            with open(a.workload_json) as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            die("cannot read %s: %s" % (a.workload_json, e))
    else:
        if not os.access(a.pgadvisor, os.X_OK):
            die("%s is not an executable (build it: cargo build --release, or pass --pgadvisor / --workload-json)" % a.pgadvisor)
        if not os.path.exists(a.log):
            die("%s does not exist (run bench/index-advisor/capture.sh)" % a.log)
        cmd = [a.pgadvisor, "workload", a.log, "--format", "json", "--top", "1000", "--samples", "3"]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            die("%s failed (exit %d): %s" % (" ".join(cmd), p.returncode, p.stderr.strip()))
        doc = json.loads(p.stdout)
    fps = doc.get("fingerprints")
    if not isinstance(fps, list):
        die("the workload JSON has no fingerprints[] list")
    return fps


def connect(dsn):
    conn = psycopg.connect(dsn, autocommit=True, application_name="index-advisor-bench")
    # Unnamed extended-protocol statements -- what the application sent -- are
    # always planned with their actual values; make PREPARE/EXECUTE do the
    # same instead of switching to a generic plan after five executions.
    conn.execute("SET plan_cache_mode = force_custom_plan")
    conn.execute("SET statement_timeout = '300s'")
    if conn.execute("SHOW standard_conforming_strings").fetchone()[0] != "on":
        die("standard_conforming_strings must be on (literal quoting relies on it)")
    return conn


def quote_literal(v):
    """A logged parameter value as an untyped SQL literal: the prepared
    statement's inferred parameter type decides how it is read, as it did
    when the value was bound. Values are logged as text, so this is exact."""
    if v is None:
        return "NULL"
    return "'" + str(v).replace("'", "''") + "'"


_PARAM_RE = re.compile(r"\$(\d+)")


def clean_statement(s):
    return s.strip().rstrip(";").strip()


class Sample:
    """One executable statement: text plus parameter values (or None)."""

    def __init__(self, statement, parameters):
        self.statement = clean_statement(statement)
        self.parameters = parameters

    @classmethod
    def from_json(cls, s):
        return cls(s["statement"], s.get("parameters"))

    def uses_params(self):
        return bool(self.parameters) or bool(_PARAM_RE.search(strip_literals(self.statement)))


def samples_of(fp, n):
    out = []
    for s in fp.get("samples") or []:
        if s.get("statement"):
            out.append(Sample.from_json(s))
        if len(out) >= n:
            break
    return out


def explain(conn, sample, options="FORMAT JSON"):
    """EXPLAIN (options) of the sample; returns the top plan object (the
    element of EXPLAIN's JSON array). PREPARE / EXPLAIN EXECUTE / DEALLOCATE
    each time: a statement prepared before a hypothetical index existed would
    keep planning without it, so nothing prepared is ever reused."""
    if not sample.uses_params():
        row = conn.execute("EXPLAIN (%s) %s" % (options, sample.statement)).fetchone()
        return row[0][0]
    n = max([int(m) for m in _PARAM_RE.findall(strip_literals(sample.statement))] or [0])
    params = list(sample.parameters or [])
    if len(params) < n:
        raise ValueError("statement uses $%d but only %d parameter values were logged" % (n, len(params)))
    conn.execute("PREPARE bench_stmt AS " + sample.statement)
    try:
        args = ", ".join(quote_literal(v) for v in params[:n])
        row = conn.execute("EXPLAIN (%s) EXECUTE bench_stmt(%s)" % (options, args)).fetchone()
        return row[0][0]
    finally:
        # (not transactional: also needed after a rolled-back EXPLAIN ANALYZE)
        try:
            conn.execute("DEALLOCATE bench_stmt")
        except psycopg.errors.InFailedSqlTransaction:
            pass


def total_cost(plan):
    return float(plan["Plan"]["Total Cost"])


def walk_plan(node):
    yield node
    for child in node.get("Plans", []):
        yield from walk_plan(child)


def index_names(plan):
    return [n["Index Name"] for n in walk_plan(plan["Plan"]) if "Index Name" in n]


def strip_literals(sql):
    """The statement without string literals, quoted identifiers kept, and
    comments: what is left can be scanned for identifiers and $n."""
    out, i, n = [], 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch == "'" or (ch in "eE" and i + 1 < n and sql[i + 1] == "'" and (i == 0 or not (sql[i - 1].isalnum() or sql[i - 1] == "_"))):
            j = i + (2 if ch in "eE" else 1)
            while j < n:
                if sql[j] == "\\" and ch in "eE":
                    j += 2
                    continue
                if sql[j] == "'":
                    if j + 1 < n and sql[j + 1] == "'":
                        j += 2
                        continue
                    break
                j += 1
            out.append(" '' ")
            i = j + 1
        elif ch == '"':
            j = sql.find('"', i + 1)
            while j != -1 and j + 1 < n and sql[j + 1] == '"':
                j = sql.find('"', j + 2)
            j = n - 1 if j == -1 else j
            out.append(sql[i:j + 1])
            i = j + 1
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j == -1 else j
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            i = n if j == -1 else j + 2
        elif ch == "$" and (m := re.match(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$", sql[i:])):
            tag = m.group(0)
            j = sql.find(tag, i + len(tag))
            out.append(" '' ")
            i = n if j == -1 else j + len(tag)
        else:
            out.append(ch)
            i += 1
    return "".join(out)


_IDENT_RE = re.compile(r'"((?:[^"]|"")+)"|([A-Za-z_][A-Za-z0-9_$]*)')


def identifiers(sql):
    """Identifiers of a statement (unquoted ones folded to lower case, as
    PostgreSQL does), literals and comments excluded."""
    out = set()
    for m in _IDENT_RE.finditer(strip_literals(sql)):
        out.add(m.group(1).replace('""', '"') if m.group(1) is not None else m.group(2).lower())
    return out


def split_sql(text):
    """Statements of a SQL file, split at semicolons outside quotes, quoted
    identifiers, comments and dollar quotes. Comments are removed (a file of
    `-- why` lines and statements is the usual migration shape); pieces with
    nothing but whitespace left are dropped."""
    stmts, cur, i, n = [], [], 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "'":
            j = i + 1
            while j < n:
                if text[j] == "'":
                    if j + 1 < n and text[j + 1] == "'":
                        j += 2
                        continue
                    break
                j += 1
            cur.append(text[i:j + 1])
            i = j + 1
        elif ch == '"':
            j = text.find('"', i + 1)
            while j != -1 and j + 1 < n and text[j + 1] == '"':
                j = text.find('"', j + 2)
            j = n - 1 if j == -1 else j
            cur.append(text[i:j + 1])
            i = j + 1
        elif text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j == -1 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            cur.append(" ")
            i = n if j == -1 else j + 2
        elif ch == "$" and (m := re.match(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$", text[i:])):
            tag = m.group(0)
            j = text.find(tag, i + len(tag))
            j = n if j == -1 else j + len(tag)
            cur.append(text[i:j])
            i = j
        elif ch == ";":
            stmts.append("".join(cur))
            cur = []
            i += 1
        else:
            cur.append(ch)
            i += 1
    stmts.append("".join(cur))
    return [s.strip() for s in stmts if s.strip()]


def median(xs):
    return statistics.median(xs) if xs else None


def write_json(path, doc):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)
