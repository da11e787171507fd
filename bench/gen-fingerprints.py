#!/usr/bin/env python3
"""Writes a stderr log (Debian prefix) with N distinct fingerprints, for the
memory-scaling benchmark: memory must grow with distinct fingerprints, not
with log size. Each fingerprint is a query on its own table name, executed
CALLS times with different literals and durations. The format copies what a
PostgreSQL 15 server writes (see fixtures/logs/stderr-debian.log); it is
generated rather than captured because no test server holds 100,000 tables.

Usage: bench/gen-fingerprints.py N CALLS OUT
"""
import random
import sys


def main() -> None:
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    n, calls, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    rng = random.Random(20261128)
    shapes = [
        "SELECT id, total FROM t_{i:06d} WHERE customer_id = {v} ORDER BY id LIMIT 10",
        "UPDATE t_{i:06d} SET total = total + {v} WHERE id = {w}",
        "SELECT count(*) FROM t_{i:06d} WHERE created_at > '2026-01-{d:02d}' AND status IN ('a', 'b')",
    ]
    with open(out, "w") as f:
        second = 0
        for c in range(calls):
            for i in range(n):
                second += 1
                ts = "2026-11-28 %02d:%02d:%02d.%03d UTC" % (
                    (second // 3600000) % 24, (second // 60000) % 60, (second // 1000) % 60, second % 1000)
                sql = shapes[i % 3].format(i=i, v=rng.randint(1, 10**6), w=rng.randint(1, 10**6), d=rng.randint(1, 28))
                ms = rng.lognormvariate(-1.5, 1.0)
                f.write(f"{ts} [{4000 + i % 50}] app@shop LOG:  duration: {ms:.3f} ms  statement: {sql}\n")


if __name__ == "__main__":
    main()
