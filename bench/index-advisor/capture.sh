#!/usr/bin/env bash
# Capture the benchmark workload: run workload.py against the loaded scratch
# cluster with every statement logged, and keep exactly that stretch of the
# server log as bench/data/index-advisor/workload.log.
#
# Usage (as root): bench/index-advisor/capture.sh [--executions N] [--clients C] [--seed S]
#
# Defaults: 6000 executions, 2 clients (about 1-2 minutes on 2 cores). The
# log uses the stderr format with log_line_prefix = '%m [%p] %q%u@%d ' and
# log_min_duration_statement = 0, switched on with ALTER SYSTEM only for the
# run and reset afterwards (also when the run fails). pg_stat_statements is
# reset right before, so it describes the same workload.
#
# The workload writes (events, sessions, orders): a capture changes the data a
# little, and the tables it wrote to are vacuumed and analyzed afterwards so
# the measurements start from settled statistics. Also writes
# workload-driver.json (what the driver sent, per template).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

EXECUTIONS=6000
CLIENTS=2
SEED=20250101
while [[ $# -gt 0 ]]; do
    case $1 in
        --executions) EXECUTIONS=$2; shift 2 ;;
        --clients) CLIENTS=$2; shift 2 ;;
        --seed) SEED=$2; shift 2 ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done
[[ $EXECUTIONS =~ ^[0-9]+$ && $CLIENTS =~ ^[1-9][0-9]*$ && $SEED =~ ^[0-9]+$ ]] \
    || die "--executions, --clients and --seed take positive integers"

require_root
"$IA_DIR/cluster.sh" start
db_exists || die "database $DB does not exist: run bench/index-advisor/load.sh first"
[[ $(loaded_stamp) == "loaded $(load_hash)" ]] \
    || die "database $DB is not loaded from the current schema/data files: run bench/index-advisor/load.sh"
ensure_psycopg

OUT=$BASE/workload.log
log "prefetching parameter data (statement logging still off)"
python3 "$IA_DIR/workload.py" prefetch --dsn "$DSN" --out "$BASE/prefetch.json"

logging_on=0
reset_logging() {
    if [[ $logging_on -eq 1 ]]; then
        admin -d postgres -c "ALTER SYSTEM RESET log_min_duration_statement" -c "SELECT pg_reload_conf()" >/dev/null \
            || log "WARNING: could not reset log_min_duration_statement; run: ALTER SYSTEM RESET log_min_duration_statement"
        logging_on=0
    fi
}
cleanup() { local rc=$?; reset_logging; rm -f "$OUT.tmp"; [[ $rc -eq 0 ]] || log "FAILED (exit $rc)"; }
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

admin -d "$DB" -c "SELECT pg_stat_statements_reset()" >/dev/null
logging_on=1
admin -d postgres -c "ALTER SYSTEM SET log_min_duration_statement = 0" -c "SELECT pg_reload_conf()" >/dev/null
# let the reload reach every backend and the admin lines reach the file,
# then remember where the workload starts
sleep 1.5
off=$(stat -c %s "$SERVER_LOG")

log "running $EXECUTIONS executions with $CLIENTS clients (seed $SEED)"
t0=$(date +%s.%N)
python3 "$IA_DIR/workload.py" run --dsn "$APP_DSN" --prefetch "$BASE/prefetch.json" \
    --executions "$EXECUTIONS" --clients "$CLIENTS" --seed "$SEED" \
    --truth "$BASE/workload-driver.json" --progress
t1=$(date +%s.%N)
# let the last statements' lines be written before slicing
sleep 1.5
tail -c +$((off + 1)) "$SERVER_LOG" >"$OUT.tmp"
reset_logging
mv "$OUT.tmp" "$OUT"

log "VACUUM ANALYZE of the tables the workload wrote to"
admin -d "$DB" -c "VACUUM (ANALYZE) events, sessions, orders, order_items, users"

log "captured $OUT in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", b - a }') s: $(du -h "$OUT" | cut -f1), $(wc -l <"$OUT") lines,"
log "  $(grep -c ' execute <unnamed>: ' "$OUT" || true) extended-protocol executions, $(grep -c ' statement: ' "$OUT" || true) simple-protocol statements, $(grep -c ' ERROR: ' "$OUT" || true) errors"
