#!/usr/bin/env bash
# bench/pool/run.sh — is pgadvisor bench-pool's load generator fast enough?
#
# 1. At equal concurrency N, on pgbench's select-only workload, compare
#    `pgbench -S -M prepared -c N -j N -T D` with
#    `pgadvisor bench-pool --builtin select-only --sizes N --clients N
#    --duration D`, alternately (pgbench first in odd rounds, pgadvisor first
#    in even ones), several rounds, in one database on this machine, and
#    print a markdown table with the throughput ratio (bar: >= 1).
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
#                          [--duration 10] [--rounds 2] [--scale 1]
#                          [--pgadvisor PATH] [--skip-compare] [--skip-sweep]
# URL reaches a role that may CREATE DATABASE (default:
# postgres://postgres@127.0.0.1:5432/postgres). Raw outputs go to
# bench/data/pool/ (git-ignored).

set -euo pipefail

url="postgres://postgres@127.0.0.1:5432/postgres"
clients="1 2 4 8 16 32"
duration=10
rounds=2
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
        --rounds) rounds="$2"; shift 2 ;;
        --scale) scale="$2"; shift 2 ;;
        --pgadvisor) pgadvisor="$2"; shift 2 ;;
        --skip-compare) compare=0; shift ;;
        --skip-sweep) sweep=0; shift ;;
        -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
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

median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.1f\n", (a[NR/2]+a[NR/2+1])/2}'; }
best() { sort -g | tail -1; }

run_pgbench() { # N ROUND -> tps
    local n="$1" r="$2" f="$out/pgbench-c$1-r$2.log"
    /usr/bin/time -f "cpu %U %S wall %e" pgbench -n -S -M prepared -c "$n" -j "$n" -T "$duration" "$dburl" >"$f" 2>&1
    sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$f"
}

run_pgadvisor() { # N ROUND -> tps
    local n="$1" r="$2" f="$out/pgadvisor-c$1-r$2.json"
    "$pgadvisor" bench-pool -d "$dburl" --builtin select-only --scale "$scale" \
        --sizes "$n" --clients "$n" --duration "${duration}s" --warmup 0s \
        --format json >"$f" 2>"$out/pgadvisor-c$1-r$2.err"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); s=d["steps"][0]; print(s["tps"], s["client_cpu"]["cores_used"], s["errors"]+s["timeouts"])' "$f"
}

if [ "$compare" = 1 ]; then
    echo
    echo "## pgbench -S -M prepared vs pgadvisor bench-pool (select-only, scale $scale, ${duration}s per run, $rounds rounds)"
    echo
    echo "| clients = pool size | pgbench tps (runs) | pgadvisor tps (runs) | pgadvisor client CPU (cores) | ratio of medians | ratio of bests | load average after |"
    echo "|---:|---|---|---:|---:|---:|---:|"
    for n in $clients; do
        pg=(); pa=(); cpu=()
        for r in $(seq 1 "$rounds"); do
            if [ $((r % 2)) = 1 ]; then
                pg+=("$(run_pgbench "$n" "$r")")
                read -r t c e < <(run_pgadvisor "$n" "$r"); pa+=("$t"); cpu+=("$c")
            else
                read -r t c e < <(run_pgadvisor "$n" "$r"); pa+=("$t"); cpu+=("$c")
                pg+=("$(run_pgbench "$n" "$r")")
            fi
            [ "$e" = 0 ] || echo "warning: pgadvisor had $e errors at N=$n round $r" >&2
        done
        pgm=$(printf '%s\n' "${pg[@]}" | median); pam=$(printf '%s\n' "${pa[@]}" | median)
        pgb=$(printf '%s\n' "${pg[@]}" | best); pab=$(printf '%s\n' "${pa[@]}" | best)
        cpum=$(printf '%s\n' "${cpu[@]}" | median)
        printf '| %s | %s | %s | %s | %.2f | %.2f | %s |\n' "$n" \
            "$(printf '%.0f ' "${pg[@]}")" "$(printf '%.0f ' "${pa[@]}")" "$cpum" \
            "$(echo "$pam / $pgm" | bc -l)" "$(echo "$pab / $pgb" | bc -l)" "$(cut -d' ' -f1 /proc/loadavg)"
    done
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
