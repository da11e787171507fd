#!/usr/bin/env bash
# Generate large, realistic PostgreSQL stderr logs for benchmarking
# `pgadvisor workload` against pgbadger.
#
# Usage: bench/gen-logs.sh [--size-mb N] [--out DIR] [--only pgbench|distinct]
#                          [--duration S] [--clients C] [--threads J]
#                          [--scale S] [--force] [--keep-cluster]
#
#   --size-mb N    target size of each log (default 220)
#   --out DIR      output directory (default bench/data, git-ignored)
#   --only KIND    only (re)generate pgbench.log or distinct.log
#   --duration S   pgbench -T of each run (default 5: the extended-protocol log
#                  grows ~10 MB/s on 2 cores, so 20 s runs would give only one
#                  extended + one simple run; the last run is shortened
#                  to land close to the target size)
#   --clients C / --threads J   pgbench -c / -j (default 4 / 2)
#   --scale S      pgbench -i -s (default 10)
#   --force        regenerate even if an output already has the target size
#
# Produces in DIR:
#   pgbench.log   built-in TPC-B-like script, alternating `-M extended` and
#                 `-M simple` runs (extended => parse/bind/execute + DETAIL lines)
#   distinct.log  custom scripts in bench/pgbench-scripts/*.sql (weighted @W),
#                 sent with -M simple; \set random values are interpolated into
#                 the SQL text so (almost) every logged statement text differs
#   MANIFEST      how each log was produced
#
# A private scratch cluster (port 5441, socket in its data dir) is created,
# used and destroyed (trap EXIT). The shared server on 5432 is never touched.
# Idempotent: outputs are written to temporary names and renamed at the end;
# an output that already has >= the target size is kept unless --force.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PGBIN=/usr/lib/postgresql/15/bin
PORT=5441
SIZE_MB=220
OUT="$HERE/data"
ONLY=""
DURATION=5
CLIENTS=4
THREADS=2
SCALE=10
FORCE=0
KEEP=0

die() { echo "gen-logs: $*" >&2; exit 1; }
log() { echo "[gen-logs $(date -u +%H:%M:%S)] $*" >&2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --size-mb) SIZE_MB="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    --only) ONLY="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --clients) CLIENTS="$2"; shift 2 ;;
    --threads) THREADS="$2"; shift 2 ;;
    --scale) SCALE="$2"; shift 2 ;;
    --force) FORCE=1; shift ;;
    --keep-cluster) KEEP=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done
case "$ONLY" in ""|pgbench|distinct) ;; *) die "--only must be pgbench or distinct" ;; esac
[[ "$SIZE_MB" =~ ^[0-9]+$ ]] && [ "$SIZE_MB" -gt 0 ] || die "--size-mb must be a positive integer"
[ "$(id -u)" -eq 0 ] || die "must run as root (uses runuser -u postgres)"
[ -x "$PGBIN/initdb" ] || die "$PGBIN/initdb not found"
command -v pgbench >/dev/null || die "pgbench not on PATH"

mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
chmod 755 "$OUT"
TARGET=$((SIZE_MB * 1024 * 1024))
SCRIPTS="$HERE/pgbench-scripts"
SCRATCH="$OUT/.pgscratch"          # data dir + unix socket + live log
PGDATA="$SCRATCH/pgdata"
LIVELOG="$SCRATCH/server.log"       # the file pg_ctl -l appends to

fsize() { stat -c %s "$1" 2>/dev/null || echo 0; }

want() {  # want NAME -> 0 if NAME must be (re)generated
  local name="$1"
  [ -z "$ONLY" ] || [ "$ONLY" = "$name" ] || return 1
  [ "$FORCE" -eq 1 ] && return 0
  local f="$OUT/$name.log"
  if [ -f "$f" ] && [ "$(fsize "$f")" -ge "$TARGET" ]; then
    log "$name.log already $(($(fsize "$f") / 1048576)) MB >= ${SIZE_MB} MB, keeping it (--force to regenerate)"
    return 1
  fi
  return 0
}

DO_PGBENCH=0; DO_DISTINCT=0
want pgbench && DO_PGBENCH=1
want distinct && DO_DISTINCT=1

stop_cluster() {
  if [ -f "$PGDATA/postmaster.pid" ]; then
    runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null 2>&1 ||
      runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate -w stop >/dev/null 2>&1 || true
  fi
}
cleanup() {
  local rc=$?
  if [ "$KEEP" -eq 0 ]; then
    stop_cluster
    rm -rf "$SCRATCH"
    rm -f "$OUT/.pgbench.log.tmp" "$OUT/.distinct.log.tmp"
  else
    log "keeping scratch cluster in $SCRATCH (port $PORT)"
  fi
  exit $rc
}

PGV="$("$PGBIN/postgres" --version)"
if [ "$DO_PGBENCH" -eq 0 ] && [ "$DO_DISTINCT" -eq 0 ]; then
  log "nothing to do"
else
  trap cleanup EXIT
  trap 'exit 130' INT TERM

  # ---- scratch cluster (stale leftovers from an aborted run are removed) ----
  stop_cluster
  rm -rf "$SCRATCH"
  if (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null; then
    die "something already listens on 127.0.0.1:$PORT; refusing to continue"
  fi
  mkdir -p "$SCRATCH"
  chown postgres:postgres "$SCRATCH"
  log "initdb $PGDATA"
  runuser -u postgres -- "$PGBIN/initdb" -D "$PGDATA" -U postgres --auth=trust \
    --no-locale -E UTF8 >/dev/null
  cat >>"$PGDATA/postgresql.conf" <<EOF

# ---- pgadvisor bench/gen-logs.sh scratch settings ----
port = $PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$PGDATA'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 256MB
max_wal_size = 2GB
lc_messages = 'C'
log_timezone = 'UTC'
logging_collector = off
log_destination = 'stderr'
log_line_prefix = '%m [%p] %q%u@%d '
log_min_duration_statement = 0
EOF
  runuser -u postgres -- touch "$LIVELOG"
  runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDATA" -l "$LIVELOG" -w -t 60 start >/dev/null
  export PGHOST="$PGDATA" PGPORT="$PORT" PGUSER=postgres PGDATABASE=bench
  psql -X -q -d postgres -v ON_ERROR_STOP=1 -c "CREATE DATABASE bench" >/dev/null

  log "pgbench -i -s $SCALE"
  pgbench -i -s "$SCALE" -q bench >"$SCRATCH/init.out" 2>&1 ||
    { cat "$SCRATCH/init.out" >&2; die "pgbench -i failed"; }
  psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<'EOF'
CREATE TABLE bench_notes (
  id bigserial PRIMARY KEY,
  aid int NOT NULL,
  author text NOT NULL,
  body text,
  created_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO bench_notes (aid, author, body, created_at)
SELECT (random() * 999999)::int + 1, 'user_' || (g % 5000 + 1),
       'note ' || g || ' seeded', now() - g * interval '1 minute'
FROM generate_series(1, 200000) g;
CREATE INDEX bench_notes_author ON bench_notes (author);
VACUUM ANALYZE;
EOF
fi

# run_until TMPFILE MODE_LIST... : run pgbench repeatedly (cycling through the
# given argument sets) until the live log reaches TARGET, then copy it out.
declare -a RUN_CMDS=()
run_phase() {
  local name="$1"; shift
  local tmp="$OUT/.$name.log.tmp"
  local -a modes=("$@")
  local -a rates=()                     # bytes/s of the last run of each mode
  local i=0 m size before t0 t1 rate remaining t args
  RUN_CMDS=()
  : >"$LIVELOG"                         # log starts right before the first run
  while :; do
    size=$(fsize "$LIVELOG")
    [ "$size" -ge "$TARGET" ] && break
    m=$((i % ${#modes[@]}))
    t=$DURATION
    rate=${rates[$m]:-0}
    if [ "$rate" -gt 0 ]; then          # shorten the run that reaches the target
      remaining=$(( TARGET - size ))
      if [ $(( (remaining + rate - 1) / rate )) -lt "$t" ]; then
        t=$(( (remaining + rate - 1) / rate ))
        [ "$t" -lt 1 ] && t=1
      fi
    fi
    args="${modes[$m]} -c $CLIENTS -j $THREADS -T $t"
    log "$name: $((size / 1048576))/${SIZE_MB} MB, run $((i + 1)): pgbench $args"
    before=$size; t0=$(date +%s%N)
    # shellcheck disable=SC2086
    (cd "$SCRIPTS" && pgbench $args bench) >"$SCRATCH/pgbench.out" 2>&1 ||
      { cat "$SCRATCH/pgbench.out" >&2; die "pgbench failed"; }
    t1=$(date +%s%N)
    rates[$m]=$(( ($(fsize "$LIVELOG") - before) * 1000000000 / (t1 - t0 + 1) ))
    grep -E '^(tps|number of transactions actually processed)' "$SCRATCH/pgbench.out" | sed 's/^/    /' >&2 || true
    RUN_CMDS+=("pgbench $args bench")
    i=$((i + 1))
  done
  cp "$LIVELOG" "$tmp"
  : >"$LIVELOG"
  mv -f "$tmp" "$OUT/$name.log"
  log "$name.log: $(($(fsize "$OUT/$name.log") / 1048576)) MB after $i runs"
}

manifest_entry() {
  local name="$1" desc="$2"
  local f="$OUT/$name.log"
  {
    echo "[$name.log]"
    echo "produced_at: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "postgres: $PGV"
    echo "pgbench: $(pgbench --version)"
    echo "bytes: $(fsize "$f")"
    echo "lines: $(wc -l <"$f")"
    echo "target_mb: $SIZE_MB"
    echo "init: pgbench -i -s $SCALE bench (+ bench_notes table, 200000 seeded rows); log truncated after init"
    echo "server: log_line_prefix='%m [%p] %q%u@%d ' log_min_duration_statement=0 lc_messages=C log_timezone=UTC stderr via pg_ctl -l (no collector), fsync=off synchronous_commit=off"
    echo "description: $desc"
    echo "runs:"
    # identical consecutive runs are folded into "N x command"
    printf '%s\n' "${RUN_CMDS[@]}" | uniq -c | awk '{ n = $1; $1 = ""; sub(/^ /, ""); printf "  %d x %s\n", n, $0 }'
    echo
  } >"$OUT/.MANIFEST.$name"
}

if [ "$DO_PGBENCH" -eq 1 ]; then
  run_phase pgbench "-M extended" "-M simple"
  manifest_entry pgbench "built-in tpcb-like script; runs alternate -M extended (parse/bind/execute + DETAIL parameters) and -M simple"
fi

if [ "$DO_DISTINCT" -eq 1 ]; then
  DARGS="-n -M simple -s $SCALE"
  DARGS+=" -f point_select.sql@30 -f range_select.sql@8 -f aggregate_range.sql@3"
  DARGS+=" -f in_list_3.sql@6 -f in_list_8.sql@4 -f in_list_25.sql@2 -f in_list_strings.sql@3"
  DARGS+=" -f update_account.sql@10 -f update_teller.sql@4 -f insert_note.sql@10"
  DARGS+=" -f join_multiline.sql@6 -f order_limit.sql@5 -f notes_by_author.sql@4"
  DARGS+=" -f delete_note.sql@2 -f null_update.sql@2 -f transfer_tx.sql@4"
  run_phase distinct "$DARGS"
  manifest_entry distinct "custom scripts from bench/pgbench-scripts (cwd), -M simple, \\set random values inlined as literals; all runs identical"
fi

# ---- MANIFEST: keep the entries of logs we did not regenerate ----
if [ "$DO_PGBENCH" -eq 1 ] || [ "$DO_DISTINCT" -eq 1 ]; then
  for n in pgbench distinct; do
    if [ ! -f "$OUT/.MANIFEST.$n" ] && [ -f "$OUT/MANIFEST" ]; then
      awk -v hdr="[$n.log]" '$0==hdr{p=1} p&&/^$/{print; p=0} p' "$OUT/MANIFEST" >"$OUT/.MANIFEST.$n"
    fi
  done
  {
    echo "# bench/data MANIFEST, written by bench/gen-logs.sh"
    echo "# host: $(uname -srm), $(nproc) cores"
    echo
    cat "$OUT"/.MANIFEST.pgbench "$OUT"/.MANIFEST.distinct 2>/dev/null || true
  } >"$OUT/MANIFEST.tmp"
  mv -f "$OUT/MANIFEST.tmp" "$OUT/MANIFEST"
  rm -f "$OUT"/.MANIFEST.pgbench "$OUT"/.MANIFEST.distinct
fi

echo
printf '%-14s %10s %12s\n' log MB lines
for n in pgbench distinct; do
  f="$OUT/$n.log"
  [ -f "$f" ] || continue
  awk -v n="$n.log" -v b="$(fsize "$f")" -v l="$(wc -l <"$f")" 'BEGIN{printf "%-14s %10.1f %12d\n", n, b/1048576, l}'
done
