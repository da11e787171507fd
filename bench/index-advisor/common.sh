# Shared settings and helpers for the bench/index-advisor scripts (sourced,
# not run). Everything lives under bench/data/index-advisor/ (git-ignored):
# the scratch cluster survives `cluster.sh stop`, so a re-run skips the
# multi-minute load; `cluster.sh destroy` is the only thing that removes it.

IA_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$IA_DIR/../.." && pwd)
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
# 5441 is also what bench/gen-logs.sh uses for its throw-away cluster: the two
# never run at the same time, and start() refuses to share the port.
PORT=${IA_PORT:-5441}
DB=shop
BASE=${IA_BASE:-$REPO/bench/data/index-advisor}
PGDATA_DIR=$BASE/cluster
SERVER_LOG=$BASE/server.log
# What the Python scripts and pgadvisor get: TCP, like an application would.
DSN="postgresql://postgres@127.0.0.1:$PORT/$DB"
APP_DSN="postgresql://app@127.0.0.1:$PORT/$DB"

export PGCONNECT_TIMEOUT=10
# A developer's PG* environment must not redirect any of this to another server.
unset PGHOST PGPORT PGUSER PGDATABASE PGOPTIONS PGSERVICE PGPASSWORD || true

ia_name=$(basename "$0" .sh)
log() { printf '[index-advisor/%s %s] %s\n' "$ia_name" "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

as_pg() { runuser -u postgres -- "$@"; }

# Superuser session over the unix socket in the data directory (never TCP:
# that keeps admin work distinguishable from the workload in the log).
admin() {
    PGOPTIONS='-c client_min_messages=warning' \
        psql -X -q -v ON_ERROR_STOP=1 -h "$PGDATA_DIR" -p "$PORT" -U postgres "$@"
}
admin_val() { admin -t -A "$@"; }

require_root() {
    [[ $(id -u) -eq 0 ]] || die "run as root (initdb and postgres run via runuser -u postgres)"
    id postgres >/dev/null 2>&1 || die "no 'postgres' system user (install the postgresql-15 package)"
}

require_pg15() {
    [[ -x $PGBIN/initdb && -x $PGBIN/pg_ctl && -x $PGBIN/postgres ]] \
        || die "PostgreSQL binaries not found in $PGBIN (set PGBIN)"
    "$PGBIN/postgres" --version | grep -q ' 15\.' || die "$PGBIN/postgres is not PostgreSQL 15"
    command -v psql >/dev/null || die "psql not on PATH"
}

cluster_running() {
    [[ -f $PGDATA_DIR/PG_VERSION ]] && as_pg "$PGBIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1
}

require_running() {
    cluster_running || die "the scratch cluster is not running: run bench/index-advisor/cluster.sh start"
}

db_exists() {
    [[ $(admin_val -d postgres -c "SELECT count(*) FROM pg_database WHERE datname = '$DB'") == 1 ]]
}

# The load stamps the database comment with a hash of the files it ran, so a
# changed schema or generator is noticed instead of silently measured.
load_hash() { cat "$IA_DIR/schema.sql" "$IA_DIR/data.sql" "$IA_DIR/indexes.sql" | md5sum | cut -c1-12; }
loaded_stamp() { admin_val -d postgres -c "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = '$DB'"; }

ensure_psycopg() {
    command -v python3 >/dev/null || die "python3 not on PATH"
    if ! python3 -c 'import psycopg' 2>/dev/null; then
        log "installing psycopg (pip)"
        # (a Debian system python refuses plain pip installs (PEP 668): retry
        # with --break-system-packages there)
        python3 -m pip install --quiet "psycopg[binary]" \
            || python3 -m pip install --quiet --break-system-packages "psycopg[binary]" \
            || die "could not pip-install psycopg (is python3-pip installed?)"
    fi
    python3 -c 'import psycopg; psycopg.pq.version()' || die "psycopg is not usable"
}
