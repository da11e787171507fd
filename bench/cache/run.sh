#!/usr/bin/env bash
# bench/cache/run.sh — the bars of pgadvisor bench-cache, on this machine.
#
# 1. Simulation speed: zipf:0.9 over 1,000,000 keys, 20,000,000 accesses,
#    the default 8 capacities; accesses per second per policy (bar: >= 10 M
#    for LRU, TinyLFU and S3-FIFO; Bélády, the bound, is reported too).
# 2. Simulated LRU against the live L1 (moka, LRU) on the same stream:
#    zipf:0.9 over 100,000 keys, L1 capacities 1,000 and 10,000, with 1
#    and with 4 clients (bar: within 2 points), and the L1 hit latency p50
#    from the live run's histogram (bar: < 2 µs = 2000 ns).
# 3. All four strategies against PostgreSQL and Redis (zipf:0.9 over
#    100,000 keys, L1 10,000, 4 clients), without and with 5 % writes:
#    hit ratios, latencies, database load, staleness and the model check.
#
# Usage: bench/cache/run.sh [--url URL] [--redis URL] [--duration 10s]
#                           [--skip-build] [--only sim|lru|live]
# URL reaches a role that may CREATE a schema (default:
# postgres://postgres@127.0.0.1:5432/postgres); every run drops its scratch
# schema and removes its Redis keys. Raw JSON goes to bench/data/cache/
# (git-ignored); the summary is printed as markdown.

set -euo pipefail

url="postgres://postgres@127.0.0.1:5432/postgres"
redis="redis://127.0.0.1:6379"
duration="10s"
build=1
only=""
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
while [ $# -gt 0 ]; do
    case "$1" in
        --url) url="$2"; shift 2 ;;
        --redis) redis="$2"; shift 2 ;;
        --duration) duration="$2"; shift 2 ;;
        --skip-build) build=0; shift ;;
        --only) only="$2"; shift 2 ;;
        -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
command -v jq >/dev/null || { echo "jq not found (Debian: jq)" >&2; exit 1; }
if [ "$build" = 1 ]; then
    (cd "$root" && cargo build --release --quiet)
fi
pgadvisor="$root/target/release/pgadvisor"
out="$root/bench/data/cache"
mkdir -p "$out"
want() { [ -z "$only" ] || [ "$only" = "$1" ]; }

echo "machine: $(nproc) cores, $(uname -sr); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo

if want sim; then
    cmd=("$pgadvisor" bench-cache --dist zipf:0.9 --keys 1000000 --accesses 20000000 --format json)
    echo "### Simulation speed"
    echo
    echo "\`${cmd[*]#"$root/"}\`"
    echo
    "${cmd[@]}" > "$out/sim.json" 2>/dev/null
    echo "| policy | accesses/s | capacities | accesses per capacity |"
    echo "|---|---:|---:|---:|"
    jq -r '.simulation as $s
        | ($s.policies[] | "| \(.policy) | \((.accesses_per_s / 1e6 * 10 | round) / 10) M | \($s.capacities | length) | \($s.accesses) |"),
          "| Bélády (bound) | \(($s.belady_accesses_per_s / 1e6 * 10 | round) / 10) M | \($s.capacities | length) | \($s.accesses) |"' \
        "$out/sim.json"
    jq -r '"\nwhole simulation: \(.simulation.seconds * 10 | round / 10) s"' "$out/sim.json"
    echo
fi

if want lru; then
    echo "### Simulated LRU against the live L1 (moka LRU), and the L1 hit latency"
    echo
    echo "| clients | L1 capacity | reads | live L1 hit ratio | simulated LRU | difference (points) | L1 hit p50 | L1 hit p99 |"
    echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
    for clients in 1 4; do
        cmd=("$pgadvisor" bench-cache -d "$url" --strategies l1 --l1-capacity 1000,10000
             --clients "$clients" --duration "$duration" --dist zipf:0.9 --keys 100000 --format json)
        "${cmd[@]}" > "$out/lru-c$clients.json" 2>/dev/null
        jq -r --arg c "$clients" '.live.runs[]
            | "| \($c) | \(.l1_capacity) | \(.reads) | \(.l1.hit_ratio * 10000 | round / 10000) | \(.simulated.l1_hit_ratio * 10000 | round / 10000) | \(.l1_vs_simulated_points * 1000 | round / 1000) | \(.latency_ns.l1_hit.p50) ns | \(.latency_ns.l1_hit.p99) ns |"' \
            "$out/lru-c$clients.json"
    done
    echo
    echo "command: \`pgadvisor bench-cache -d URL --strategies l1 --l1-capacity 1000,10000 --clients {1,4} --duration $duration --dist zipf:0.9 --keys 100000 --format json\`"
    echo
fi

if want live; then
    echo "### All strategies, PostgreSQL and Redis"
    for writes in 0 0.05; do
        cmd=("$pgadvisor" bench-cache -d "$url" --redis "$redis" --l1-capacity 10000 --clients 4
             --duration "$duration" --dist zipf:0.9 --keys 100000 --write-ratio "$writes" --format json)
        "${cmd[@]}" > "$out/live-w$writes.json" 2>/dev/null
        echo
        echo "write ratio $writes: \`pgadvisor bench-cache -d URL --redis URL --l1-capacity 10000 --clients 4 --duration $duration --dist zipf:0.9 --keys 100000 --write-ratio $writes\`"
        echo
        echo "| strategy | req/s | hit ratio | L1 | L2 | read p50 | read p99 | DB queries | DB load saved | DB time saved | stale reads | max staleness | E[R] predicted | measured | error |"
        echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        jq -r '.live.runs[]
            | "| \(.strategy)\(if .l1_capacity then " (\(.l1_capacity))" else "" end) | \(.throughput_per_s | round) | \(.hit_ratio * 1000 | round / 1000) | \(if .l1 then (.l1.hit_ratio * 1000 | round / 1000) else "-" end) | \(if .l2 then (.l2.hit_ratio * 1000 | round / 1000) else "-" end) | \(.latency_ns.read.p50 / 1000 * 10 | round / 10) µs | \(.latency_ns.read.p99 / 1000 * 10 | round / 10) µs | \(.db.queries) | \(.db.load_saved_pct | round) % | \(.db.time_saved_pct | round) % | \(.stale_reads) | \(.max_staleness_ms * 100 | round / 100) ms | \(if .model then (.model.predicted_mean_ns / 1000 * 10 | round / 10 | tostring) + " µs" else "-" end) | \(if .model then (.model.measured_mean_ns / 1000 * 10 | round / 10 | tostring) + " µs" else "-" end) | \(if .model then (.model.error_pct | round | tostring) + " %" else "-" end) |"' \
            "$out/live-w$writes.json"
        jq -r '"\ntiers: L1 hit \(.live.tiers.l1_hit_ns | round) ns, Redis GET \(.live.tiers.redis_get_ns / 1000 * 10 | round / 10) µs, database read \(.live.tiers.db_read_ns / 1000 * 10 | round / 10) µs; Redis memory (l2): \(.live.runs[] | select(.strategy == "l2") | .l2.estimated_bytes) bytes for \(.live.runs[] | select(.strategy == "l2") | .l2.keys) keys; recommendation: \(.recommendation.strategy)\(if .recommendation.l1_capacity then " (\(.recommendation.l1_capacity))" else "" end), meets targets: \(.recommendation.meets_targets)"' \
            "$out/live-w$writes.json"
    done
fi
