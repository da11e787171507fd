#!/usr/bin/env python3
"""Measure the workload's estimated cost and execution time under an index set.

Usage:
    measure.py --label NAME --out FILE [--indexes FILE.sql]
               [--log LOG | --workload-json FILE] [--pgadvisor PATH] [--dsn URL]
               [--runs 5] [--fast-runs 25] [--warmup 1] [--samples 3]
               [--kinds select,update,delete] [--no-paired]

Without --indexes it measures the database as it is. With it, it builds the
file's CREATE INDEX statements first and drops exactly those again at the end
(also on failure, Ctrl-C or SIGTERM), so the database is left as it was:

  * the file may be a migration: comments, `CREATE INDEX CONCURRENTLY IF NOT
    EXISTS "name" ON "schema"."table" (...)`, any quoting; statements are
    split at semicolons outside quotes. CONCURRENTLY is dropped (a plain
    build is faster and nothing else runs). Statements other than CREATE
    [UNIQUE] INDEX are listed and skipped: the benchmark compares index sets.
  * what it drops is what appeared: the set of index OIDs is compared before
    and after the builds, so an IF NOT EXISTS that hit a pre-existing index
    never drops that one.
  * the tables that got an index are ANALYZEd (an expression index has no
    statistics until then).

Then for every fingerprint of the chosen kinds (default SELECT, UPDATE,
DELETE) and each of its first --samples samples: the plan's total cost
(EXPLAIN), then --warmup + --runs executions of EXPLAIN (ANALYZE, TIMING OFF)
inside BEGIN ... ROLLBACK (so writes change nothing), keeping the median
"Execution Time" of the --runs timed ones. A query's cost and time are the
means over its samples; the workload's are the sums weighted by calls.
TIMING OFF because per-node timing costs a clock read per row and so inflates
sequential scans far more than index scans; the statement's total time is
still measured. Warm-up because the first run after an index build or
another query's big scan reads from the OS cache, not shared buffers.

Two refinements, because the bench machine is a small shared VM where a
parallel `cargo build` moves single timings by 1.5x and more:

  * paired baseline (unless --no-paired): after the build and ANALYZE, the
    database is copied (CREATE DATABASE <db>_measure_base TEMPLATE <db>, a
    file copy: same pages, same statistics) and the new indexes are dropped
    in the copy. Every timed run then alternates with the same run against
    the copy, in alternating order. Per-query slowdowns (compare.py) come from
    these pairs, so neither load drift nor the re-sampled statistics of the
    ANALYZE show up as an index effect. (Dropping the indexes inside each
    baseline run's transaction was tried first: the DDL's invalidations and
    strong locks alone made 20 us statements 30 % slower.) The copy is
    dropped at the end.
  * sub-millisecond samples (warm-up < 1 ms) get --fast-runs (25) timed runs
    instead of 5: they cost microseconds, and a median of 5 runs of a 20 us
    statement moves by +-50 % under load. --fast-runs 5 gives the plain rule.
"""

import argparse
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402
from psycopg import conninfo  # noqa: E402

_CREATE_INDEX_RE = re.compile(r"^\s*CREATE\s+(UNIQUE\s+)?INDEX\b", re.I)
_CONCURRENTLY_RE = re.compile(r"^(\s*CREATE\s+(?:UNIQUE\s+)?INDEX\s+)CONCURRENTLY\s+", re.I)

INDEX_SNAPSHOT = """
    SELECT i.indexrelid
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"""


def read_index_file(path):
    try:
        text = open(path).read()
    except OSError as e:
        bl.die("cannot read %s: %s" % (path, e))
    stmts, skipped = [], []
    for s in bl.split_sql(text):
        if _CREATE_INDEX_RE.match(s):
            stmts.append(_CONCURRENTLY_RE.sub(r"\1", s))
        else:
            skipped.append(s)
    return stmts, skipped


class IndexSet:
    """Builds a file's indexes and knows exactly which ones to drop again."""

    def __init__(self, conn):
        self.conn, self.built, self.details = conn, [], []

    def build(self, stmts):
        before = {r[0] for r in self.conn.execute(INDEX_SNAPSHOT)}
        for s in stmts:
            t0 = time.time()
            new = []
            try:
                self.conn.execute(s)
            except bl.psycopg.Error as e:
                raise RuntimeError("building an index failed: %s\n  statement: %s" % (str(e).strip(), s))
            finally:
                # record whatever appeared, even when a build fails
                now = {r[0] for r in self.conn.execute(INDEX_SNAPSHOT)}
                new = [o for o in now - before if o not in self.built]
                self.built += new
            for oid in new:
                self.details.append({"oid": oid, "statement": s, "build_s": round(time.time() - t0, 2)})
        if not self.built:
            return []
        rows = self.conn.execute("""
            SELECT i.indexrelid, quote_ident(n.nspname) || '.' || quote_ident(c.relname),
                   quote_ident(n.nspname) || '.' || quote_ident(ic.relname),
                   pg_get_indexdef(i.indexrelid), pg_relation_size(i.indexrelid)
            FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
            JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE i.indexrelid = ANY(%s)""", (self.built,)).fetchall()
        info = {r[0]: r for r in rows}
        for d in self.details:
            _, table, name, definition, size = info[d["oid"]]
            d.update({"name": name, "table": table, "definition": definition, "size_bytes": size})
        tables = sorted({d["table"] for d in self.details})
        for t in tables:
            self.conn.execute("ANALYZE " + t)
        return tables

    def names(self):
        return [d["name"] for d in self.details]

    def drop(self, conn):
        for oid in list(self.built):
            name = conn.execute("SELECT %s::regclass::text", (oid,)).fetchone()[0]
            conn.execute("DROP INDEX IF EXISTS " + name)
            self.built.remove(oid)


def timed_run(conn, sample):
    """One EXPLAIN ANALYZE in a rolled-back transaction: (ms, plan)."""
    try:
        with conn.transaction(force_rollback=True):
            p = bl.explain(conn, sample, "ANALYZE, TIMING OFF, FORMAT JSON")
    except bl.psycopg.Error:
        conn.execute("DEALLOCATE ALL")   # a failed run leaves its PREPARE behind
        raise
    return float(p["Execution Time"]), p


def plan_shape(plan):
    return sorted({n["Node Type"] + (" on " + n["Relation Name"] if "Relation Name" in n else "")
                   + (" using " + n["Index Name"] if "Index Name" in n else "")
                   for n in bl.walk_plan(plan["Plan"])})


def measure_sample(conn, base, sample, a):
    """Cost and median time of one sample; with `base` (the copy without the
    new indexes) also the paired baseline's, from interleaved runs."""
    out = {"cost": bl.total_cost(bl.explain(conn, sample))}
    if base:
        out["base_cost"] = bl.total_cost(bl.explain(base, sample))
    warm = [timed_run(conn, sample)[0] for _ in range(a.warmup)]
    if base:
        warm += [timed_run(base, sample)[0] for _ in range(a.warmup)]
    # sub-millisecond statements: five runs are at the mercy of a single
    # scheduler hiccup, and more runs cost next to nothing
    runs = max(a.runs, a.fast_runs) if warm and max(warm) < 1.0 else a.runs
    times, base_times, plan, base_plan = [], [], None, None
    for k in range(runs):
        if base and k % 2:
            t, base_plan = timed_run(base, sample)
            base_times.append(t)
        t, plan = timed_run(conn, sample)
        times.append(t)
        if base and not k % 2:
            t, base_plan = timed_run(base, sample)
            base_times.append(t)
    out["median_ms"] = bl.median(times)
    out["runs_ms"] = [round(t, 3) for t in times]
    out["plan"] = plan_shape(plan)
    if base:
        out["base_median_ms"] = bl.median(base_times)
        out["base_runs_ms"] = [round(t, 3) for t in base_times]
        out["base_plan"] = plan_shape(base_plan)
    return out


def dsn_for(dsn, dbname):
    return conninfo.make_conninfo(dsn, dbname=dbname)


def make_base_copy(a, dbname, base_db, index_names):
    """CREATE DATABASE base_db as a file copy of dbname (no session may be
    connected to dbname meanwhile: the caller has closed its own), then drop
    the new indexes in the copy."""
    with bl.psycopg.connect(dsn_for(a.dsn, "postgres"), autocommit=True) as adm:
        adm.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % base_db)
        adm.execute('CREATE DATABASE "%s" TEMPLATE "%s" STRATEGY FILE_COPY' % (base_db, dbname))
    base = bl.connect(dsn_for(a.dsn, base_db))
    for name in index_names:
        base.execute("DROP INDEX " + name)
    return base


def drop_base_copy(a, base_db):
    with bl.psycopg.connect(dsn_for(a.dsn, "postgres"), autocommit=True) as adm:
        adm.execute('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % base_db)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    bl.add_workload_args(ap)
    ap.add_argument("--label", required=True, help="name of this configuration in the results (none, dexter, pgadvisor, ...)")
    ap.add_argument("--out", required=True, help="JSON results file")
    ap.add_argument("--indexes", help="SQL file of CREATE INDEX statements to build first (and drop afterwards)")
    ap.add_argument("--runs", type=int, default=5, help="timed EXPLAIN ANALYZE runs per sample (default 5)")
    ap.add_argument("--fast-runs", type=int, default=25,
                    help="timed runs for samples whose warm-up took < 1 ms (default 25; 5 gives the plain rule)")
    ap.add_argument("--warmup", type=int, default=1, help="untimed runs first (default 1)")
    ap.add_argument("--no-paired", action="store_true",
                    help="no paired baseline (interleaved runs on a copy of the database without the new indexes)")
    ap.add_argument("--samples", type=int, default=3, help="samples per fingerprint to run (default 3)")
    ap.add_argument("--kinds", default=",".join(bl.READ_WRITE_KINDS),
                    help="fingerprint kinds to measure (default %(default)s; add insert to see what indexes cost the writes)")
    a = ap.parse_args()
    kinds = [k.strip() for k in a.kinds.split(",") if k.strip()]

    stmts, skipped = read_index_file(a.indexes) if a.indexes else ([], [])
    for s in skipped:
        print("measure: skipping a statement that does not create an index: %s" % s[:120], file=sys.stderr)
    fps = [fp for fp in bl.load_workload(a) if fp.get("kind") in kinds]
    if not fps:
        bl.die("no fingerprints of kinds %s in the workload" % ",".join(kinds))

    try:
        conn = bl.connect(a.dsn)
    except bl.psycopg.Error as e:
        bl.die("cannot connect to %s: %s" % (a.dsn, str(e).strip()))
    dbname = conn.info.dbname
    base_db = dbname + "_measure_base"
    # SIGTERM (run.sh interrupted) must still reach the finally below
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ix = IndexSet(conn)
    base = None
    load_start = os.getloadavg()
    t0 = time.time()
    results, analyzed = [], []
    try:
        if stmts:
            print("measure[%s]: building %d indexes" % (a.label, len(stmts)), file=sys.stderr)
            analyzed = ix.build(stmts)
        if ix.built and not a.no_paired:
            print("measure[%s]: copying the database for the paired baseline" % a.label, file=sys.stderr)
            conn.close()
            base = make_base_copy(a, dbname, base_db, ix.names())
            conn = bl.connect(a.dsn)
        t_built = time.time()
        for n, fp in enumerate(fps, 1):
            rec = {"id": fp.get("id"), "kind": fp.get("kind"), "calls": fp.get("calls") or 0,
                   "query": fp.get("query"), "cost": None, "median_ms": None, "samples": [], "error": None}
            try:
                for s in bl.samples_of(fp, a.samples):
                    rec["samples"].append(measure_sample(conn, base, s, a))
                if not rec["samples"]:
                    rec["error"] = "no sample statement"
            except (bl.psycopg.Error, ValueError) as e:
                rec["error"] = str(e).strip().splitlines()[0]
            if rec["samples"] and not rec["error"]:
                for key in ("cost", "median_ms", "base_cost", "base_median_ms"):
                    if key in rec["samples"][0]:
                        rec[key] = sum(x[key] for x in rec["samples"]) / len(rec["samples"])
            results.append(rec)
            if sys.stderr.isatty():
                print("\r  %d / %d queries" % (n, len(fps)), end="", file=sys.stderr)
        if sys.stderr.isatty():
            print(file=sys.stderr)
        t_done = time.time()
    except RuntimeError as e:
        bl.die(str(e), 1)
    finally:
        failed = []
        if base is not None:
            base.close()
        try:
            drop_base_copy(a, base_db)
        except bl.psycopg.Error as e:
            failed.append("database %s (%s)" % (base_db, str(e).strip()))
        try:
            if conn.closed:
                conn = bl.connect(a.dsn)
            ix.drop(conn)
        except bl.psycopg.Error as e:
            failed.append("indexes %s (%s)" % (ix.names(), str(e).strip()))
        for f in failed:
            print("measure: WARNING: could not drop %s: drop it by hand" % f, file=sys.stderr)

    ok = [r for r in results if r["error"] is None]
    paired = base is not None
    totals = {}
    for group, members in (("all", ok), ("read_write", [r for r in ok if r["kind"] in bl.READ_WRITE_KINDS]),
                           ("insert", [r for r in ok if r["kind"] == "insert"])):
        totals[group] = {"queries": len(members), "calls": sum(r["calls"] for r in members),
                         "weighted_cost": round(sum(r["calls"] * r["cost"] for r in members), 1),
                         "weighted_ms": round(sum(r["calls"] * r["median_ms"] for r in members), 3)}
        if paired:
            totals[group]["base_weighted_cost"] = round(sum(r["calls"] * r["base_cost"] for r in members), 1)
            totals[group]["base_weighted_ms"] = round(sum(r["calls"] * r["base_median_ms"] for r in members), 3)
    doc = {"label": a.label, "indexes_file": a.indexes, "skipped_statements": skipped,
           "indexes": ix.details, "index_count": len(ix.details),
           "index_bytes": sum(d.get("size_bytes", 0) for d in ix.details),
           "analyzed_tables": analyzed,
           "settings": {"runs": a.runs, "fast_runs": a.fast_runs, "warmup": a.warmup, "samples": a.samples,
                        "kinds": kinds, "paired": paired, "dsn": a.dsn},
           "loadavg_start": load_start, "loadavg_end": os.getloadavg(),
           "elapsed_s": {"build": round(t_built - t0, 1), "measure": round(t_done - t_built, 1)},
           "totals": totals, "errors": [{"id": r["id"], "error": r["error"]} for r in results if r["error"]],
           "queries": results}
    bl.write_json(a.out, doc)
    tt = totals["read_write"]
    print("measure[%s]: %d indexes (%.1f MB), %d queries: est. cost %.0f, time %.1f ms (calls-weighted); "
          "%d errors; build %.0f s, measure %.0f s -> %s" % (
              a.label, len(ix.details), doc["index_bytes"] / 1e6, tt["queries"], tt["weighted_cost"],
              tt["weighted_ms"], len(doc["errors"]), t_built - t0, t_done - t_built, a.out), file=sys.stderr)
    if paired:
        print("  paired baseline (same moments, copy without the new indexes): est. cost %.0f, time %.1f ms" % (
            tt["base_weighted_cost"], tt["base_weighted_ms"]), file=sys.stderr)
    for r in results:
        if r["error"]:
            print("  error in %s: %s" % (r["id"], r["error"]), file=sys.stderr)


if __name__ == "__main__":
    main()
