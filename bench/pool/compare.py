#!/usr/bin/env python3
"""bench/pool/compare.py — pgadvisor bench-pool's load generator against
`pgbench -S -M prepared` at equal concurrency, in paired short runs.

Why pairs of short runs: on a shared 2-vCPU VM the machine's speed drifts by
±20 % over tens of seconds, far more than the difference being measured.
Running the two tools back to back many times, in alternating order, puts
each pair under nearly the same conditions; the ratio within a pair is what
is summarised (geometric mean with a 95 % t-interval on the log ratios, and
the median), beside each tool's median throughput and the client CPU each
spent per transaction.

Usage: compare.py --url URL [--clients "1 2 4 8 16 32"] [--pairs 8]
                  [--duration 4] [--scale 1] [--pgadvisor PATH]
                  [--out DIR] [--variant "LABEL=ARGS"]...
Each --variant is a pgadvisor configuration (extra arguments) measured in
the same rounds as pgbench, in rotating order; without one, pgadvisor runs
with its defaults. pgadvisor runs its built-in select-only workload on its
own scratch tables unless a variant gives `--script FILE` (run.sh uses that
to run pgbench's select-only script on pgbench's own tables as well).
The database at URL must already hold `pgbench -i -s SCALE` tables
(run.sh prepares it). Prints a markdown table; raw outputs go to --out.
"""

import argparse
import json
import math
import os
import re
import resource
import shlex
import statistics
import subprocess
import sys

# Two-sided 95 % Student t quantiles by degrees of freedom (1..30).
T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
       2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
       2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_pgbench(url, n, duration, log):
    """-> (tps, client CPU seconds per transaction)"""
    before = children_cpu()
    p = subprocess.run(
        ["pgbench", "-n", "-S", "-M", "prepared", "-c", str(n), "-j", str(n),
         "-T", str(duration), url],
        capture_output=True, text=True)
    cpu = children_cpu() - before
    with open(log, "w") as f:
        f.write(p.stdout + p.stderr)
    tps = re.search(r"^tps = ([0-9.]+) \(without", p.stdout, re.M)
    done = re.search(r"actually processed: (\d+)", p.stdout)
    if p.returncode != 0 or not tps or not done:
        sys.exit(f"pgbench failed or printed no tps at N={n}: see {log}")
    tps, done = float(tps.group(1)), int(done.group(1))
    return tps, cpu / max(done, 1)


def run_pgadvisor(pgadvisor, url, n, duration, scale, extra, log):
    """-> (tps, client CPU seconds per transaction over the measured step)"""
    p = subprocess.run(
        [pgadvisor, "bench-pool", "-d", url]
        + ([] if "--script" in extra else ["--builtin", "select-only"])
        + ["--scale", str(scale), "--sizes", str(n), "--clients", str(n),
         "--duration", f"{duration}s", "--warmup", "0s", "--format", "json"]
        + extra,
        capture_output=True, text=True)
    with open(log, "w") as f:
        f.write(p.stdout)
    with open(log + ".err", "w") as f:
        f.write(p.stderr)
    if p.returncode != 0:
        sys.exit(f"pgadvisor failed at N={n}: see {log}.err")
    step = json.loads(p.stdout)["steps"][0]
    if step["errors"] or step["timeouts"]:
        print(f"warning: pgadvisor had {step['errors']} errors and "
              f"{step['timeouts']} timeouts at N={n}", file=sys.stderr)
    cpu = step["client_cpu"]["cores_used"] * step["duration_ms"] / 1000.0
    return step["tps"], cpu / max(step["transactions"], 1)


def summarise(ratios):
    """Geometric mean of the paired ratios with a 95 % t-interval."""
    logs = [math.log(r) for r in ratios]
    mean = statistics.fmean(logs)
    if len(logs) < 2:
        return math.exp(mean), float("nan"), float("nan")
    half = T95[min(len(logs) - 1, len(T95)) - 1] * statistics.stdev(logs) / math.sqrt(len(logs))
    return math.exp(mean), math.exp(mean - half), math.exp(mean + half)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--clients", default="1 2 4 8 16 32")
    ap.add_argument("--pairs", type=int, default=8)
    ap.add_argument("--duration", type=int, default=4)
    ap.add_argument("--scale", type=int, default=1)
    ap.add_argument("--pgadvisor", default="target/release/pgadvisor")
    ap.add_argument("--out", default="bench/data/pool")
    ap.add_argument("--variant", action="append", default=[],
                    help="LABEL=ARGS: a pgadvisor configuration to compare")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    variants = [(v.split("=", 1)[0], shlex.split(v.split("=", 1)[1] if "=" in v else ""))
                for v in a.variant] or [("defaults", [])]

    print(f"## pgbench -S -M prepared vs pgadvisor bench-pool (select-only, scale {a.scale}, "
          f"{a.pairs} pairs of {a.duration} s runs per N, alternating order)")
    print()
    print("| clients = pool size | pgadvisor | pgbench tps, median (min–max) "
          "| pgadvisor tps, median (min–max) | paired ratio, geometric mean [95 % CI] "
          "| paired ratio, median | pairs ≥ 1 | client CPU per tx, pgbench / pgadvisor (µs) |")
    print("|---:|---|---|---|---|---:|---:|---|")
    for n in [int(x) for x in a.clients.split()]:
        # Per round: pgbench's and each variant's (tps, CPU per tx).
        rounds = []
        for k in range(a.pairs):
            runs = [("pgbench", None)] + [(label, args) for label, args in variants]
            # Rotate the order so that no tool is always first or last.
            shift = k % len(runs)
            measured = {}
            for label, args in runs[shift:] + runs[:shift]:
                if args is None:
                    measured[label] = run_pgbench(a.url, n, a.duration,
                                                  f"{a.out}/pgbench-c{n}-p{k}.log")
                else:
                    measured[label] = run_pgadvisor(
                        a.pgadvisor, a.url, n, a.duration, a.scale, args,
                        f"{a.out}/pgadvisor-{label}-c{n}-p{k}.json")
            rounds.append(measured)
        pg = [r["pgbench"][0] for r in rounds]
        pg_cpu = [r["pgbench"][1] for r in rounds]
        for label, _ in variants:
            pa = [r[label][0] for r in rounds]
            pa_cpu = [r[label][1] for r in rounds]
            ratios = [x / y for x, y in zip(pa, pg)]
            g, lo, hi = summarise(ratios)
            print(f"| {n} | {label} | {statistics.median(pg):.0f} ({min(pg):.0f}–{max(pg):.0f}) "
                  f"| {statistics.median(pa):.0f} ({min(pa):.0f}–{max(pa):.0f}) "
                  f"| {g:.3f} [{lo:.3f}, {hi:.3f}] | {statistics.median(ratios):.3f} "
                  f"| {sum(r >= 1 for r in ratios)}/{len(ratios)} "
                  f"| {statistics.median(pg_cpu) * 1e6:.1f} / {statistics.median(pa_cpu) * 1e6:.1f} |",
                  flush=True)


if __name__ == "__main__":
    main()
