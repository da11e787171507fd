#!/usr/bin/env bash
# The index-advisor benchmark's own PostgreSQL 15 cluster.
#
# Usage (as root): bench/index-advisor/cluster.sh start|stop|status|destroy
#
#   start    initdb bench/data/index-advisor/cluster on first use, then start
#            it on 127.0.0.1:5441 (unix socket in the data directory). A no-op
#            when it already runs.
#   stop     fast shutdown; the data stays, so the next start is instant and
#            load.sh has nothing to do.
#   status   running or not, and whether the `shop` database is loaded.
#   destroy  stop and delete the cluster and its server log (the captured
#            workload.log and results are kept).
#
# It is a separate cluster, not a database on the shared server on 5432: the
# capture needs log_min_duration_statement = 0 and a known log_line_prefix,
# and the measurements need a server nobody else is loading.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; }

start() {
    require_pg15
    if cluster_running; then
        log "already running on 127.0.0.1:$PORT ($PGDATA_DIR)"
        return 0
    fi
    if (exec 3<>/dev/tcp/127.0.0.1/"$PORT") 2>/dev/null; then
        die "something else already listens on 127.0.0.1:$PORT (bench/gen-logs.sh uses that port too); stop it first"
    fi
    mkdir -p "$BASE"
    chmod 755 "$BASE"
    if [[ ! -f $PGDATA_DIR/PG_VERSION ]]; then
        [[ -e $PGDATA_DIR ]] && [[ -n $(ls -A "$PGDATA_DIR") ]] \
            && die "$PGDATA_DIR exists but is not a cluster; remove it or run destroy"
        mkdir -p "$PGDATA_DIR"
        chown postgres:postgres "$PGDATA_DIR"
        chmod 700 "$PGDATA_DIR"
        log "initdb $PGDATA_DIR"
        # C.UTF-8, not C: like most production databases the default collation
        # is then not "C", so a plain btree cannot serve LIKE 'prefix%' (that
        # needs text_pattern_ops) -- one of the things the benchmark checks.
        as_pg "$PGBIN/initdb" -D "$PGDATA_DIR" -U postgres --auth=trust -E UTF8 \
            --locale=C.UTF-8 -N >/dev/null
        cat >>"$PGDATA_DIR/postgresql.conf" <<CONF

# ---- pgadvisor bench/index-advisor scratch settings ----
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$PGDATA_DIR'
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = top
# Sized like a small production box; work_mem stays at its default on purpose
# (sorts and hashes that spill are part of what indexes save).
shared_buffers = 256MB
maintenance_work_mem = 256MB
effective_cache_size = 4GB
# The data can always be regenerated: trade durability for a faster load.
fsync = off
synchronous_commit = off
full_page_writes = off
max_wal_size = 4GB
checkpoint_timeout = 30min
# JIT compiles big seq-scan plans for 10-100 ms, which would swamp the
# per-query timings with compiler noise; most OLTP setups turn it off too.
jit = off
lc_messages = 'C'
log_timezone = 'UTC'
timezone = 'UTC'
logging_collector = off
log_destination = 'stderr'
# The Debian default prefix, which pgadvisor detects on its own. Statement
# logging stays off; capture.sh turns it on (ALTER SYSTEM) for the capture.
log_line_prefix = '%m [%p] %q%u@%d '
log_min_duration_statement = -1
log_checkpoints = off
log_autovacuum_min_duration = -1
CONF
    fi
    touch "$SERVER_LOG"
    chown postgres:postgres "$SERVER_LOG"
    log "starting on 127.0.0.1:$PORT (log: $SERVER_LOG)"
    as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -l "$SERVER_LOG" -w -t 120 start >/dev/null \
        || die "pg_ctl start failed; see the end of $SERVER_LOG"
}

stop() {
    if cluster_running; then
        log "stopping (data kept in $PGDATA_DIR)"
        as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 120 stop >/dev/null
    else
        log "not running"
    fi
}

status() {
    if [[ ! -f $PGDATA_DIR/PG_VERSION ]]; then
        echo "cluster: not created ($PGDATA_DIR)"
        return 0
    fi
    if ! cluster_running; then
        echo "cluster: stopped ($PGDATA_DIR, $(du -sh "$PGDATA_DIR" | cut -f1))"
        return 0
    fi
    echo "cluster: running on 127.0.0.1:$PORT ($PGDATA_DIR, $(du -sh "$PGDATA_DIR" | cut -f1))"
    if db_exists; then
        local stamp; stamp=$(loaded_stamp)
        if [[ $stamp == "loaded $(load_hash)" ]]; then
            echo "database $DB: loaded (current schema/data files)"
        elif [[ $stamp == loaded* ]]; then
            echo "database $DB: loaded from OLDER schema/data files ($stamp); run load.sh --force"
        else
            echo "database $DB: exists but the load did not finish; run load.sh --force"
        fi
    else
        echo "database $DB: not loaded (run load.sh)"
    fi
}

destroy() {
    if [[ -f $PGDATA_DIR/postmaster.pid ]]; then
        as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 120 stop >/dev/null 2>&1 \
            || as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    log "removing $PGDATA_DIR and $SERVER_LOG"
    rm -rf "$PGDATA_DIR" "$SERVER_LOG"
}

[[ $# -eq 1 ]] || { usage >&2; exit 2; }
case $1 in
    start) require_root; start ;;
    stop) require_root; stop ;;
    status) require_root; status ;;
    destroy) require_root; destroy ;;
    -h|--help) usage ;;
    *) usage >&2; exit 2 ;;
esac
