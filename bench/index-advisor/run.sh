#!/usr/bin/env bash
# The index-advisor benchmark, end to end: workload cost and measured time
# with no new indexes, with Dexter's rule (the baseline), and with
# `pgadvisor recommend-indexes` at the same index count; then the bars.
#
# Usage (as root):
#   bench/index-advisor/run.sh [--recapture] [--reload] [--baseline-only]
#                              [--runs N] [--samples N] [-- EXTRA RECOMMEND-INDEXES ARGS]
#
#   --recapture      capture the workload again even if workload.log exists
#   --reload         reload the database (load.sh --force); implies --recapture
#   --baseline-only  stop after none + Dexter (no pgadvisor binary with
#                    recommend-indexes needed)
#   --runs N         timed EXPLAIN ANALYZE runs per sample (default 5)
#   --samples N      samples per fingerprint (default 3)
#   -- ARGS          passed to recommend-indexes (e.g. --enable-hypopg)
#   PGADVISOR=PATH   environment: the binary to run (default target/release/pgadvisor;
#                    built with cargo build --release when missing)
#
# Everything is written to bench/data/index-advisor/:
#   workload.log, workload.json          the captured workload, as pgadvisor reads it
#   results-none.json                    measure.py without new indexes
#   dexter.sql, dexter.json, results-dexter.json
#   pgadvisor.sql, pgadvisor.json        recommend-indexes --format sql / json
#   pgadvisor.time                       /usr/bin/time -v of the --format sql run
#   results-pgadvisor.json, report.md    the comparison (also printed)
#
# Exit status: compare.py's -- 0 when every bar holds, 3 when one does not;
# 1 when a step fails. About 10 minutes on 2 cores after the first load
# (each measurement copies the database once for its paired baseline). The
# cluster is left running; stop it with cluster.sh stop.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

RECAPTURE=0
RELOAD=0
BASELINE_ONLY=0
RUNS=5
SAMPLES=3
EXTRA=()
while [[ $# -gt 0 ]]; do
    case $1 in
        --recapture) RECAPTURE=1; shift ;;
        --reload) RELOAD=1; RECAPTURE=1; shift ;;
        --baseline-only) BASELINE_ONLY=1; shift ;;
        --runs) RUNS=$2; shift 2 ;;
        --samples) SAMPLES=$2; shift 2 ;;
        --) shift; EXTRA=("$@"); break ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done

require_root
ensure_psycopg
[[ -x /usr/bin/time ]] || die "/usr/bin/time (GNU time) is missing: apt-get install time"
# PGADVISOR=... runs another binary (a wrapper, an older build)
PGADVISOR=${PGADVISOR:-$REPO/target/release/pgadvisor}
OUT=$BASE
step() { log "== $*"; }
t_start=$(date +%s)

step "cluster and data"
"$IA_DIR/cluster.sh" start
if [[ $RELOAD -eq 1 ]]; then "$IA_DIR/load.sh" --force; else "$IA_DIR/load.sh"; fi

if [[ $RECAPTURE -eq 1 || ! -s $OUT/workload.log ]]; then
    step "capture"
    "$IA_DIR/capture.sh"
else
    log "using the existing $OUT/workload.log (--recapture to capture again)"
fi

if [[ ! -x $PGADVISOR && $PGADVISOR != "$REPO/target/release/pgadvisor" ]]; then
    die "PGADVISOR=$PGADVISOR is not an executable"
elif [[ ! -x $PGADVISOR ]]; then
    step "cargo build --release"
    command -v cargo >/dev/null || die "cargo not on PATH and $PGADVISOR does not exist"
    (cd "$REPO" && cargo build --release) || die "cargo build --release failed"
fi
if [[ $BASELINE_ONLY -eq 0 ]] && ! "$PGADVISOR" recommend-indexes --help >/dev/null 2>&1; then
    die "$PGADVISOR has no recommend-indexes command: rebuild it (cargo build --release) or use --baseline-only"
fi

# A measure.py that was killed with SIGKILL could not drop what it built;
# measuring on top of leftovers would flatter every configuration. load.sh
# recorded which indexes the schema itself has.
[[ -s $BASE/load-indexes.txt ]] || die "$BASE/load-indexes.txt is missing: run load.sh --force"
extra_idx=$(comm -23 <(admin_val -d "$DB" -c "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'" | sort) \
    <(sort "$BASE/load-indexes.txt") | paste -sd, -)
[[ -z $extra_idx ]] || die "database $DB has indexes the load did not create: $extra_idx (drop them, or run load.sh --force)"
admin -d postgres -c "DROP DATABASE IF EXISTS ${DB}_measure_base WITH (FORCE)"

step "workload"
"$PGADVISOR" workload "$OUT/workload.log" --format json --top 1000 --samples 3 >"$OUT/workload.json.tmp" \
    || die "pgadvisor workload failed"
mv "$OUT/workload.json.tmp" "$OUT/workload.json"
MEASURE=(python3 "$IA_DIR/measure.py" --workload-json "$OUT/workload.json" --dsn "$DSN"
         --runs "$RUNS" --samples "$SAMPLES" --kinds select,update,delete,insert)

step "measure: no new indexes"
"${MEASURE[@]}" --label none --out "$OUT/results-none.json"

step "Dexter baseline"
python3 "$IA_DIR/dexter_baseline.py" --workload-json "$OUT/workload.json" --dsn "$DSN" \
    --out-sql "$OUT/dexter.sql" >"$OUT/dexter.json"
N=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["index_count"])' "$OUT/dexter.json")
[[ $N -gt 0 ]] || die "the Dexter baseline chose no index; nothing to compare"
step "measure: Dexter's $N indexes"
"${MEASURE[@]}" --label dexter --indexes "$OUT/dexter.sql" --out "$OUT/results-dexter.json"

CONFIGS=(--config "dexter=$OUT/results-dexter.json")
TIMEARG=()
if [[ $BASELINE_ONLY -eq 0 ]]; then
    step "pgadvisor recommend-indexes --max-indexes $N"
    # exit 3 is a tripped gate, not a failure: the migration is still printed
    rc=0
    /usr/bin/time -v -o "$OUT/pgadvisor.time" "$PGADVISOR" recommend-indexes "$OUT/workload.log" \
        -d "$DSN" --max-indexes "$N" --format sql "${EXTRA[@]}" >"$OUT/pgadvisor.sql" || rc=$?
    [[ $rc -eq 0 || $rc -eq 3 ]] || die "recommend-indexes --format sql exited $rc (see above)"
    rc=0
    "$PGADVISOR" recommend-indexes "$OUT/workload.log" -d "$DSN" --max-indexes "$N" --format json \
        "${EXTRA[@]}" >"$OUT/pgadvisor.json" || rc=$?
    [[ $rc -eq 0 || $rc -eq 3 ]] || die "recommend-indexes --format json exited $rc (see above)"
    log "recommend-indexes: $(grep -ciE '^[[:space:]]*create[[:space:]]+(unique[[:space:]]+)?index' "$OUT/pgadvisor.sql" || true) indexes," \
        "$(grep 'Elapsed (wall clock)' "$OUT/pgadvisor.time" | sed 's/.*: //') wall"
    step "measure: pgadvisor's indexes"
    "${MEASURE[@]}" --label pgadvisor --indexes "$OUT/pgadvisor.sql" --out "$OUT/results-pgadvisor.json"
    CONFIGS+=(--config "pgadvisor=$OUT/results-pgadvisor.json")
    TIMEARG=(--recommend-time "$OUT/pgadvisor.time")
fi

step "compare"
rc=0
python3 "$IA_DIR/compare.py" --none "$OUT/results-none.json" "${CONFIGS[@]}" "${TIMEARG[@]}" \
    >"$OUT/report.md" || rc=$?
cat "$OUT/report.md"
log "done in $(( $(date +%s) - t_start )) s; report: $OUT/report.md"
if [[ $BASELINE_ONLY -eq 1 ]]; then
    # without a candidate the bars cannot hold; that is not a failure here
    [[ $rc -eq 0 || $rc -eq 3 ]] && exit 0
fi
exit $rc
