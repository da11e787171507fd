#!/usr/bin/env python3
"""Dexter's index rule, re-implemented as the benchmark's baseline.

Usage:
    dexter_baseline.py [--log LOG | --workload-json FILE] [--pgadvisor PATH]
                       [--dsn URL] [--out-sql FILE] [--min-cost 100]

Writes the chosen indexes as a migration (--out-sql, default
bench/data/index-advisor/dexter.sql) and a JSON summary of every decision to
stdout. Needs hypopg in the database (load.sh creates it); it creates only
hypothetical indexes and resets them, so the database is left as it was.

The rule, per fingerprint (SELECT / UPDATE / DELETE), planned with its first
sample's statement and logged parameter values (custom plan):

  0. start cost = total cost of the current plan; skip the query when < 100.
  1. candidate columns = the columns of the statement's tables whose names
     occur as identifiers in its text (json, jsonb and point columns dropped:
     no btree). Pass 1: one hypothetical single-column btree per candidate,
     all at once; re-plan.
  2. Pass 2: add every ordered two-column permutation per table; re-plan.
  3. Accept pass 2's choice when pass-1 cost > 100 and pass 2 cuts it by at
     least 50 % (if that plan uses more than one hypothetical index, fall back
     to pass 1's); otherwise accept pass 1's when it cuts the start cost by at
     least 50 %. If the accepted plan uses several hypothetical indexes, each
     is tried alone and only the cheapest is kept -- and only if it alone
     still cuts the start cost by 50 %. At most one new index per query.
  4. Drop the suggestion when an existing (valid, non-partial) btree already
     starts with the same column(s).

The union over all queries, deduplicated, is the baseline set. This follows
Dexter (github.com/ankane/dexter) in spirit -- its candidate columns come from
pg_query's ColumnRefs, ours from the identifiers left after removing literals
and comments, which is the same set for this workload -- and deliberately not
beyond it: no expression, partial or covering indexes, no look at how often a
query runs or what an index costs the writes. Those are what an advisor is
expected to do better.

HypoPG notes: a statement prepared before a hypothetical index was created
keeps its cached plan source unaware of it, so every plan here is a fresh
PREPARE / EXPLAIN EXECUTE / DEALLOCATE; hypopg_reset() runs between queries,
which keeps each session far below hypopg's ~2000 hypothetical indexes.
"""

import argparse
import hashlib
import itertools
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

NO_BTREE_TYPES = {"json", "jsonb", "point"}
MAX_HYPOTHETICAL = 1900
_HYPO_RE = re.compile(r"^<(\d+)>")


def load_catalog(conn):
    tables = {}   # oid -> {schema, name, visible, columns: [(name, type)]}
    for oid, nsp, rel, visible, att, typ in conn.execute("""
            SELECT c.oid, n.nspname, c.relname, pg_table_is_visible(c.oid), a.attname, t.typname
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            JOIN pg_type t ON t.oid = a.atttypid
            WHERE c.relkind IN ('r', 'p', 'm')
              AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
              AND n.nspname NOT LIKE 'pg\\_temp%'
            ORDER BY c.oid, a.attnum"""):
        t = tables.setdefault(oid, {"oid": oid, "schema": nsp, "name": rel, "visible": visible, "columns": []})
        t["columns"].append((att, typ))
    existing = {}  # table oid -> [(index name, [leading plain columns])]
    for idx, rel, cols in conn.execute("""
            SELECT ic.relname, i.indrelid,
                   ARRAY(SELECT CASE WHEN k.attnum = 0 THEN NULL ELSE a.attname END
                         FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                         LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                         ORDER BY k.ord)
            FROM pg_index i
            JOIN pg_class ic ON ic.oid = i.indexrelid
            JOIN pg_am am ON am.oid = ic.relam
            WHERE am.amname = 'btree' AND i.indisvalid AND i.indpred IS NULL"""):
        lead = []
        for c in cols:
            if c is None:   # an expression: nothing after it is a plain prefix
                break
            lead.append(c)
        existing.setdefault(rel, []).append((idx, lead))
    return tables, existing


def tables_of(sample, tables):
    """Catalog tables named in the statement (a name in several schemas: the
    one on the search_path)."""
    idents = bl.identifiers(sample.statement)
    by_name = {}
    for t in tables.values():
        if t["name"] in idents:
            prev = by_name.get(t["name"])
            if prev is None or (t["visible"] and not prev["visible"]):
                by_name[t["name"]] = t
    return sorted(by_name.values(), key=lambda t: (t["schema"], t["name"])), idents


def qi(name):
    return '"' + name.replace('"', '""') + '"'


def index_sql(t, cols):
    return "CREATE INDEX ON %s.%s USING btree (%s)" % (qi(t["schema"]), qi(t["name"]), ", ".join(qi(c) for c in cols))


class Hypo:
    """Hypothetical indexes of the current query: oid -> (table, columns)."""

    def __init__(self, conn):
        self.conn, self.by_oid = conn, {}

    def reset(self):
        self.conn.execute("SELECT hypopg_reset()")
        self.by_oid = {}

    def create(self, t, cols):
        oid, _name = self.conn.execute("SELECT indexrelid, indexname FROM hypopg_create_index(%s)",
                                       (index_sql(t, cols),)).fetchone()
        self.by_oid[int(oid)] = (t, tuple(cols))

    def used(self, plan):
        """Hypothetical indexes the plan uses, in plan order, deduplicated."""
        out = []
        for name in bl.index_names(plan):
            m = _HYPO_RE.match(name)
            if m and int(m.group(1)) in self.by_oid:
                key = self.by_oid[int(m.group(1))]
                if key not in out:
                    out.append(key)
        return out


def covered_by_existing(t, cols, existing):
    for name, lead in existing.get(t["oid"], []):
        if lead[:len(cols)] == list(cols):
            return name
    return None


def analyze_query(conn, hypo, fp, tables, existing, a):
    """The decision record for one fingerprint."""
    rec = {"id": fp.get("id"), "kind": fp.get("kind"), "calls": fp.get("calls"),
           "query": fp.get("query"), "start_cost": None, "pass1_cost": None, "pass2_cost": None,
           "pass3_cost": None, "decision": None, "index": None}
    samples = bl.samples_of(fp, 1)
    if not samples:
        rec["decision"] = "skipped: no sample statement in the workload"
        return rec
    s = samples[0]
    try:
        hypo.reset()
        plan0 = bl.explain(conn, s)
        cost0 = rec["start_cost"] = bl.total_cost(plan0)
        if cost0 < a.min_cost:
            rec["decision"] = "skipped: start cost below %g" % a.min_cost
            return rec
        qtables, idents = tables_of(s, tables)
        cands = {}
        for t in qtables:
            cols = [c for c, typ in t["columns"] if c in idents and typ not in NO_BTREE_TYPES]
            if cols:
                cands[t["oid"]] = (t, cols)
        rec["candidates"] = {"%s.%s" % (t["schema"], t["name"]): cols for t, cols in cands.values()}
        if not cands:
            rec["decision"] = "no candidate columns"
            return rec

        # pass 1: single columns
        for t, cols in cands.values():
            for c in cols:
                hypo.create(t, [c])
        plan1 = bl.explain(conn, s)
        cost1 = rec["pass1_cost"] = bl.total_cost(plan1)

        # pass 2: + ordered pairs per table
        pairs = [(t, p) for t, cols in cands.values() for p in itertools.permutations(cols, 2)]
        if len(hypo.by_oid) + len(pairs) > MAX_HYPOTHETICAL:
            pairs = pairs[:MAX_HYPOTHETICAL - len(hypo.by_oid)]
            rec["note"] = "too many candidate pairs; only the first %d tried" % len(pairs)
        for t, p in pairs:
            hypo.create(t, list(p))
        plan2 = bl.explain(conn, s) if pairs else plan1
        cost2 = rec["pass2_cost"] = bl.total_cost(plan2)

        saves1 = cost1 < cost0 * a.saving
        saves2 = cost1 > a.min_cost and cost2 < cost1 * a.saving
        chosen = hypo.used(plan2 if saves2 else plan1)
        if saves2 and len(chosen) > 1:
            # several new indexes for one query: likely a bad suggestion,
            # so fall back to the single-column pass
            chosen, saves2 = hypo.used(plan1), False
        if not (saves1 or saves2):
            rec["decision"] = "no index saves 50 %"
            return rec
        if not chosen:
            rec["decision"] = "cheaper plan uses no hypothetical index"
            return rec
        best_cost = cost2 if saves2 else cost1
        if len(chosen) > 1:
            # pass 3: each alone; keep the cheapest
            trials = []
            for t, cols in chosen:
                hypo.reset()
                hypo.create(t, list(cols))
                trials.append((bl.total_cost(bl.explain(conn, s)), (t, cols)))
            best_cost, best = min(trials, key=lambda x: x[0])
            rec["pass3_cost"] = best_cost
            chosen = [best]
            if best_cost >= cost0 * a.saving:
                rec["decision"] = "several indexes needed; none alone saves 50 %"
                return rec
        t, cols = chosen[0]
        rec["index"] = {"schema": t["schema"], "table": t["name"], "columns": list(cols)}
        rec["new_cost"] = best_cost
        dup = covered_by_existing(t, cols, existing)
        if dup:
            rec["decision"] = "dropped: existing index %s starts with the same columns" % dup
            rec["index"]["covered_by"] = dup
            return rec
        rec["decision"] = "index"
        return rec
    except (bl.psycopg.Error, ValueError) as e:
        rec["decision"] = "error: %s" % str(e).strip().splitlines()[0]
        return rec
    finally:
        try:
            hypo.reset()
        except bl.psycopg.Error:
            pass


def index_name(t, cols):
    name = "dexter_%s_%s_idx" % (t, "_".join(cols))
    return name if len(name) <= 63 else name[:54] + "_" + hashlib.md5(name.encode()).hexdigest()[:8]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    bl.add_workload_args(ap)
    ap.add_argument("--out-sql", default=os.path.join(bl.REPO, "bench", "data", "index-advisor", "dexter.sql"))
    ap.add_argument("--min-cost", type=float, default=100.0, help="skip queries cheaper than this (default 100)")
    ap.add_argument("--saving", type=float, default=0.5, help="new cost must be below this share of the old (default 0.5)")
    a = ap.parse_args()

    fps = bl.load_workload(a)
    t0 = time.time()
    try:
        conn = bl.connect(a.dsn)
    except bl.psycopg.Error as e:
        bl.die("cannot connect to %s: %s" % (a.dsn, str(e).strip()))
    with conn:
        if not conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'hypopg'").fetchone():
            bl.die("hypopg is not installed in the database (CREATE EXTENSION hypopg; load.sh does it)")
        tables, existing = load_catalog(conn)
        hypo = Hypo(conn)
        records = [analyze_query(conn, hypo, fp, tables, existing, a)
                   for fp in fps if fp.get("kind") in bl.READ_WRITE_KINDS]

    chosen = {}
    for r in records:
        if r["decision"] == "index":
            ix = r["index"]
            key = (ix["schema"], ix["table"], tuple(ix["columns"]))
            chosen.setdefault(key, []).append(r)
    indexes = []
    lines = ["-- Dexter-rule baseline for the index-advisor benchmark (bench/index-advisor/dexter_baseline.py):",
             "-- %d indexes for %d of %d queries." % (len(chosen), sum(len(v) for v in chosen.values()), len(records)),
             ""]
    for (schema, table, cols), rs in sorted(chosen.items()):
        name = index_name(table, cols)
        stmt = 'CREATE INDEX CONCURRENTLY IF NOT EXISTS %s ON %s.%s (%s);' % (
            qi(name), qi(schema), qi(table), ", ".join(qi(c) for c in cols))
        for r in rs:
            lines.append("-- %s (%d calls): cost %.0f -> %.0f  %s" % (
                r["id"], r["calls"] or 0, r["start_cost"], r["new_cost"], (r["query"] or "")[:100]))
        lines += [stmt, ""]
        indexes.append({"name": name, "schema": schema, "table": table, "columns": list(cols),
                        "sql": stmt, "queries": [r["id"] for r in rs]})
    os.makedirs(os.path.dirname(os.path.abspath(a.out_sql)), exist_ok=True)
    tmp = a.out_sql + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(lines))
    os.replace(tmp, a.out_sql)

    doc = {"tool": "dexter_baseline", "rule": {"min_cost": a.min_cost, "saving": a.saving, "max_columns": 2},
           "elapsed_s": round(time.time() - t0, 2), "out_sql": a.out_sql,
           "index_count": len(indexes), "indexes": indexes, "queries": records}
    json.dump(doc, sys.stdout, indent=1)
    sys.stdout.write("\n")
    print("dexter_baseline: %d indexes for %d of %d queries in %.1f s -> %s" % (
        len(indexes), sum(len(i["queries"]) for i in indexes), len(records), time.time() - t0, a.out_sql),
        file=sys.stderr)


if __name__ == "__main__":
    main()
