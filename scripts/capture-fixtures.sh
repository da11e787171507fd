#!/usr/bin/env bash
# Capture REAL PostgreSQL 15 server logs as test fixtures for pgadvisor.
#
# Usage (as root, on a machine with the PostgreSQL 15 server binaries):
#     bash scripts/capture-fixtures.sh
#
# Debugging: KEEP_TMP=1 keeps the scratch directory (cluster stopped) on exit.
#
# It never touches an already running server: it creates its own scratch
# cluster (initdb) in a temporary directory, runs it on 127.0.0.1:5440 with a
# unix socket in that directory, captures one log per logging configuration,
# and stops and deletes the cluster on exit (also on failure).
#
# Outputs (overwritten on every run):
#   fixtures/logs/*            captured logs, gzip variants, bad-input.log,
#                              expected.json and EXPECTED.md (ground truth)
# Inputs (hand-written, validated against the scratch server by this script):
#   fixtures/sql/shop-schema.sql, fixtures/sql/app-queries.sql
#   fixtures/capture/seed.sql, fixtures/capture/workload.py,
#   fixtures/capture/postprocess.py
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PORT=5440
FINAL_OUT=$REPO/fixtures/logs
SQLDIR=$REPO/fixtures/sql
CAP=$REPO/fixtures/capture
DEBIAN_PREFIX='%m [%p] %q%u@%d '

log() { printf '[capture-fixtures] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ $(id -u) -eq 0 ]] || die "run as root (initdb/postgres run via runuser -u postgres)"
id postgres >/dev/null 2>&1 || die "no 'postgres' system user"
[[ -x $PGBIN/initdb && -x $PGBIN/pg_ctl && -x $PGBIN/postgres ]] || die "PostgreSQL binaries not found in $PGBIN"
"$PGBIN/postgres" --version | grep -q ' 15\.' || die "$PGBIN/postgres is not PostgreSQL 15"
command -v psql >/dev/null || die "psql not on PATH"
command -v pgbench >/dev/null || die "pgbench not on PATH"
command -v python3 >/dev/null || die "python3 not on PATH"
command -v gzip >/dev/null || die "gzip not on PATH"
if ! python3 -c 'import psycopg' 2>/dev/null; then
    log "installing psycopg (pip)"
    # (a Debian system python refuses plain pip installs (PEP 668): retry with
    # --break-system-packages there)
    python3 -m pip install --quiet "psycopg[binary]" \
        || python3 -m pip install --quiet --break-system-packages "psycopg[binary]" \
        || die "could not pip-install psycopg (is python3-pip installed?)"
fi
python3 -c 'import psycopg; psycopg.pq.version()' || die "psycopg is not usable"
if (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null; then
    die "something already listens on 127.0.0.1:$PORT"
fi

tmp=$(mktemp -d /tmp/pgadvisor-fixtures.XXXXXX)
chown postgres:postgres "$tmp"
chmod 755 "$tmp"
DATA=$tmp/data

cleanup() {
    local rc=$?
    if [[ -f $DATA/postmaster.pid ]]; then
        runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DATA" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    if [[ ${KEEP_TMP:-0} == 1 ]]; then
        log "KEEP_TMP=1: cluster stopped, $tmp left in place for debugging"
    else
        rm -rf "$tmp"
    fi
    if [[ $rc -ne 0 ]]; then log "FAILED (exit $rc)"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

as_pg() { runuser -u postgres -- "$@"; }
# admin connection: unix socket of the scratch cluster, superuser
admin() { PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 -h "$tmp" -p "$PORT" -U postgres "$@"; }

export FIXTURE_HOST=127.0.0.1 FIXTURE_PORT=$PORT
export PGCONNECT_TIMEOUT=10
unset PGHOST PGPORT PGUSER PGDATABASE PGOPTIONS PGSERVICE PGPASSWORD || true

log "initdb scratch cluster in $DATA"
as_pg "$PGBIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 -N >/dev/null
cat >"$tmp/conf-common.conf" <<EOF

# ---- pgadvisor fixture capture (scripts/capture-fixtures.sh) ----
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$tmp'
fsync = off
lc_messages = 'C'
log_timezone = 'UTC'
timezone = 'UTC'
log_min_duration_statement = 0
include = 'fixture.conf'
EOF
cat "$tmp/conf-common.conf" >>"$DATA/postgresql.conf"

# start_server NAME CONF_LINE...   (stderr of the postmaster goes to $tmp/NAME.stderr)
start_server() {
    local name=$1; shift
    printf '%s\n' "# fixture: $name" "$@" >"$DATA/fixture.conf"
    chown postgres:postgres "$DATA/fixture.conf"
    : >"$tmp/$name.stderr"
    chown postgres:postgres "$tmp/$name.stderr"
    as_pg "$PGBIN/pg_ctl" -D "$DATA" -l "$tmp/$name.stderr" -w -t 60 start >/dev/null
}
stop_server() {
    as_pg "$PGBIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null
}

# ---------------------------------------------------------------------------
# One-time setup: roles, template database with schema + seed + pgbench tables.
# None of this is in any fixture.
# ---------------------------------------------------------------------------
log "setup: template database shop_template"
start_server setup "log_min_duration_statement = -1"
admin -d postgres -c "CREATE ROLE app LOGIN" -c "CREATE DATABASE shop_template OWNER app"
psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U app -d shop_template \
    -f "$SQLDIR/shop-schema.sql" -f "$CAP/seed.sql" >/dev/null
pgbench -q -i -s 1 -h 127.0.0.1 -p "$PORT" -U app shop_template >/dev/null 2>&1 \
    || die "pgbench -i failed"

# Validate fixtures/sql/app-queries.sql: it must run cleanly against the shop
# schema, and the server must see exactly the declared number of statements.
log "setup: validating fixtures/sql/*.sql"
admin -d postgres -c "CREATE DATABASE appq TEMPLATE shop_template OWNER app"
sleep 1
off=$(stat -c %s "$tmp/setup.stderr")
PGAPPNAME=appq-check PGOPTIONS='-c log_statement=all' \
    psql -X -q -v ON_ERROR_STOP=1 -h "$tmp" -p "$PORT" -U postgres -d appq \
    -f "$SQLDIR/app-queries.sql" >/dev/null
sleep 1
appq_count=$(tail -c +$((off + 1)) "$tmp/setup.stderr" | grep -c 'LOG:  statement: ' || true)
echo "$appq_count" >"$tmp/app-queries.count"
log "setup: server saw $appq_count statements from app-queries.sql"
admin -d postgres -c "DROP DATABASE appq"
stop_server

# ---------------------------------------------------------------------------
# capture NAME VARIANT LOGKIND DEST CONF_LINE...
#   LOGKIND: stderr (pg_ctl -l file) | csvlog | jsonlog (logging collector)
#   The log is sliced at the byte offset it had right before the workload
#   started, so a fixture holds only the measured workload (plus connection,
#   disconnection and other background lines).
# ---------------------------------------------------------------------------
capture() {
    local name=$1 variant=$2 logkind=$3 dest=$4; shift 4
    local logdir=$tmp/logdir-$name logfile
    log "capture $name (variant $variant, $logkind)"
    mkdir -p "$logdir" && chown postgres:postgres "$logdir"
    case $logkind in
        stderr) logfile=$tmp/$name.stderr ;;
        csvlog) logfile=$logdir/postgresql.csv
                set -- "$@" "logging_collector = on" "log_destination = 'csvlog'" \
                    "log_directory = '$logdir'" "log_filename = 'postgresql.log'" ;;
        jsonlog) logfile=$logdir/postgresql.json
                set -- "$@" "logging_collector = on" "log_destination = 'jsonlog'" \
                    "log_directory = '$logdir'" "log_filename = 'postgresql.log'" ;;
        *) die "bad logkind $logkind" ;;
    esac
    start_server "$name" "$@"
    cp "$DATA/fixture.conf" "$tmp/conf-$(basename "$dest").conf"
    admin -d postgres -c "DROP DATABASE IF EXISTS shop" \
        -c "CREATE DATABASE shop TEMPLATE shop_template OWNER app"
    # let the admin session's log lines reach the file, then mark the start
    sleep 1.5
    [[ -f $logfile ]] || die "log file $logfile was not created"
    local off
    off=$(stat -c %s "$logfile")
    python3 "$CAP/workload.py" run "$variant" --out "$tmp/truth-$name.json" --workdir "$tmp"
    # let the last disconnection lines be written
    sleep 1.5
    tail -c +$((off + 1)) "$logfile" >"$dest.tmp"
    mv "$dest.tmp" "$dest"
    cp "$tmp/truth-$name.json" "$tmp/truth-$(basename "$dest").json"
    stop_server
}

# Everything is written to a staging directory first; fixtures/logs/ is only
# replaced once every capture and check has succeeded.
OUT=$tmp/out
mkdir -p "$OUT"

capture debian full stderr "$OUT/stderr-debian.log" \
    "log_line_prefix = '$DEBIAN_PREFIX'" "log_connections = on" "log_disconnections = on"
capture pgbadger full stderr "$OUT/stderr-pgbadger.log" \
    "log_line_prefix = '%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h '" \
    "log_connections = on" "log_disconnections = on"
capture rds full stderr "$OUT/stderr-rds.log" \
    "log_line_prefix = '%t:%r:%u@%d:[%p]:'" "log_connections = on" "log_disconnections = on"
capture custom full stderr "$OUT/stderr-custom.log" \
    "log_line_prefix = '%m|%c|%l|%u|%d|%a|%e| '"
capture logstatement full stderr "$OUT/stderr-logstatement.log" \
    "log_line_prefix = '$DEBIAN_PREFIX'" "log_statement = 'all'"
capture csvlog full csvlog "$OUT/csvlog.csv" \
    "log_connections = on" "log_disconnections = on"
capture jsonlog full jsonlog "$OUT/jsonlog.json" \
    "log_connections = on" "log_disconnections = on"
capture verbose short stderr "$OUT/stderr-verbose.log" \
    "log_line_prefix = '$DEBIAN_PREFIX'" "log_error_verbosity = verbose" \
    "log_parameter_max_length_on_error = -1" "log_connections = on" "log_disconnections = on"
capture autoexplain explain stderr "$OUT/auto-explain.log" \
    "log_line_prefix = '$DEBIAN_PREFIX'" "session_preload_libraries = 'auto_explain'" \
    "auto_explain.log_min_duration = 0" "auto_explain.log_format = json"
capture huge huge stderr "$tmp/huge-statement.log" \
    "log_line_prefix = '$DEBIAN_PREFIX'"

log "post-processing"
gzip -9 -n -c "$tmp/huge-statement.log" >"$OUT/huge-statement.log.gz"
gzip -9 -n -c "$OUT/stderr-debian.log" >"$OUT/stderr-debian.log.gz"
cp "$OUT/stderr-debian.log.gz" "$OUT/stderr-debian-gz-no-extension"
gzip -9 -n -c "$OUT/csvlog.csv" >"$OUT/csvlog.csv.gz"

python3 "$CAP/postprocess.py" bad-input "$OUT/stderr-debian.log" "$OUT/bad-input.log" \
    --report "$tmp/bad-input.json"
python3 "$CAP/postprocess.py" expected --truth-dir "$tmp" --out-dir "$OUT" \
    --bad-input "$tmp/bad-input.json" --app-queries-count "$(cat "$tmp/app-queries.count")" \
    --server-version "$("$PGBIN/postgres" --version)" --psycopg-version "$(python3 -c 'import psycopg; print(psycopg.__version__)')"
python3 "$CAP/postprocess.py" verify --dir "$OUT"

mkdir -p "$FINAL_OUT"
rm -f "$FINAL_OUT"/*
cp "$OUT"/* "$FINAL_OUT"/
log "done:"
ls -l "$FINAL_OUT" "$SQLDIR" >&2
