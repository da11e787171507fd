#!/usr/bin/env bash
# Peak RSS of `pgadvisor workload` (1) as the log grows with the same
# statements: bench/data/pgbench.log concatenated 1x, 2x, 4x; and (2) as
# distinct fingerprints grow: logs from bench/gen-fingerprints.py with 1,000,
# 10,000 and 100,000 fingerprints. Prints a markdown table.
#
# Usage: bench/memory-scaling.sh [--pgadvisor PATH]
# Needs bench/data/pgbench.log (bench/gen-logs.sh). Writes the derived logs to
# bench/data/ once (about 1.6 GB) and reuses them.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$HERE")"
DATA="$HERE/data"
PGADVISOR="$REPO/target/release/pgadvisor"
[ "${1:-}" = "--pgadvisor" ] && PGADVISOR="$2"
[ -x "$PGADVISOR" ] || { echo "memory-scaling: build first: cargo build --release" >&2; exit 2; }
[ -f "$DATA/pgbench.log" ] || { echo "memory-scaling: run bench/gen-logs.sh first" >&2; exit 2; }

for k in 2 4; do
  f="$DATA/pgbench-x$k.log"
  if [ ! -f "$f" ]; then
    for _ in $(seq 1 $k); do cat "$DATA/pgbench.log"; done > "$f"
  fi
done
for n in 1000 10000 100000; do
  f="$DATA/fingerprints-$n.log"
  # about the same number of lines for each: 300,000
  [ -f "$f" ] || python3 "$HERE/gen-fingerprints.py" "$n" $((300000 / n)) "$f"
done

measure() {
  local log="$1" tfile counts wall rss
  tfile=$(mktemp)
  counts=$(/usr/bin/time -o "$tfile" -f '%e %M' "$PGADVISOR" workload "$log" --format json --top 0 \
           | python3 -c 'import json,sys; d=json.load(sys.stdin)["summary"]; print(d["executions"], d["fingerprints"])')
  read -r wall rss < "$tfile"
  rm -f "$tfile"
  read -r ex fp <<<"$counts"
  printf '| %s | %.1f | %s | %s | %s | %.1f |\n' "$(basename "$log")" \
    "$(echo "$(stat -c %s "$log") / 1000000" | bc -l)" "$ex" "$fp" "$wall" "$(echo "$rss / 1024" | bc -l)"
}

echo "| log | MB | executions | fingerprints | wall s | peak RSS MB |"
echo "|---|---:|---:|---:|---:|---:|"
for f in pgbench.log pgbench-x2.log pgbench-x4.log fingerprints-1000.log fingerprints-10000.log fingerprints-100000.log; do
  cat "$DATA/$f" > /dev/null   # warm the page cache
  measure "$DATA/$f"
done
