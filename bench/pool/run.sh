#!/usr/bin/env bash
# bench/pool/run.sh — is pgadvisor bench-pool's load generator fast enough?
#
# 1. At equal concurrency N, on pgbench's select-only workload, compare
#    `pgbench -S -M prepared -c N -j N -T D` with
#    `pgadvisor bench-pool --builtin select-only --sizes N --clients N
#    --duration D` in PAIRS back-to-back pairs of short runs per N, the
#    order alternating (compare.py: the paired ratio's geometric mean with a
#    95 % interval, its median, each tool's client CPU per transaction).
#    pgadvisor runs twice per round: its built-in workload (on the scratch
#    copy of the tables it makes each run), and pgbench's script on
#    pgbench's own tables (select-only-pgbench-tables.sql), which leaves
#    the load generator as the only difference.
# 2. Time a default six-size sweep (1,2,4,8,16,32 at D seconds each, with
#    the default warm-up) end to end (bar: < 90 s at 10 s per size).
#
# Both tools get the same connection string (so the same sslmode: libpq's
# and pgadvisor's default is `prefer`, TLS where the server offers it) and
# the same data: pgbench -i -s SCALE in the bench database, and pgadvisor's
# scratch copy of the same tables (created and dropped by pgadvisor) in the
# same database.
#
# Usage: bench/pool/run.sh [--url URL] [--clients "1 2 4 8 16 32"]
#                          [--pairs 8] [--pair-duration 4] [--duration 10]
#                          [--scale 1] [--pgadvisor PATH]
#                          [--skip-compare] [--skip-sweep]
# URL reaches a role that may CREATE DATABASE (default:
# postgres://postgres@127.0.0.1:5432/postgres). Raw outputs go to
# bench/data/pool/ (git-ignored).

set -euo pipefail

url="postgres://postgres@127.0.0.1:5432/postgres"
clients="1 2 4 8 16 32"
duration=10
pairs=8
pair_duration=4
scale=1
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
pgadvisor="$root/target/release/pgadvisor"
compare=1
sweep=1
while [ $# -gt 0 ]; do
    case "$1" in
        --url) url="$2"; shift 2 ;;
        --clients) clients="$2"; shift 2 ;;
        --duration) duration="$2"; shift 2 ;;
        --pairs) pairs="$2"; shift 2 ;;
        --pair-duration) pair_duration="$2"; shift 2 ;;
        --scale) scale="$2"; shift 2 ;;
        --pgadvisor) pgadvisor="$2"; shift 2 ;;
        --skip-compare) compare=0; shift ;;
        --skip-sweep) sweep=0; shift ;;
        -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
command -v pgbench >/dev/null || { echo "pgbench not found (Debian: postgresql-client)" >&2; exit 1; }
[ -x "$pgadvisor" ] || { echo "$pgadvisor not found: cargo build --release" >&2; exit 1; }

out="$root/bench/data/pool"
mkdir -p "$out"
db="pgadvisor_bench_pool"
# The bench database's URL: the admin URL with its database name replaced.
base="${url%%\?*}"
query=""
[ "$base" != "$url" ] && query="?${url#*\?}"
dburl="${base%/*}/$db$query"

psql "$url" -qAtc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1
psql "$url" -qAtc "CREATE DATABASE \"$db\"" >/dev/null
trap 'psql "$url" -qAtc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true' EXIT

echo "machine: $(nproc) cores, $(uname -sr); $(pgbench --version); pgadvisor $("$pgadvisor" --version)"
echo "server: $(psql "$dburl" -qAtc "SELECT version()")"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
pgbench -i -q -s "$scale" "$dburl" >"$out/pgbench-init.log" 2>&1
# Warm both paths once (caches, the first connection's catalog lookups).
pgbench -n -S -M prepared -c 2 -j 2 -T 3 "$dburl" >/dev/null 2>&1

if [ "$compare" = 1 ]; then
    echo
    python3 "$here/compare.py" --url "$dburl" --clients "$clients" --pairs "$pairs" \
        --duration "$pair_duration" --scale "$scale" --pgadvisor "$pgadvisor" --out "$out" \
        --variant "builtin=" \
        --variant "pgbench-tables=--script $here/select-only-pgbench-tables.sql"
    echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
fi

if [ "$sweep" = 1 ]; then
    echo
    echo "## six-size sweep: pgadvisor bench-pool -d URL --sizes 1,2,4,8,16,32 --duration ${duration}s"
    start=$(date +%s.%N)
    "$pgadvisor" bench-pool -d "$dburl" --scale "$scale" --sizes 1,2,4,8,16,32 \
        --duration "${duration}s" --plot "$out/sweep.svg" >"$out/sweep.txt" 2>"$out/sweep.err"
    end=$(date +%s.%N)
    "$pgadvisor" --version >/dev/null
    printf 'wall time: %.1f s (bar: < 90 s at 10 s per size)\n\n' "$(echo "$end - $start" | bc -l)"
    cat "$out/sweep.txt"
fi
