#!/usr/bin/env bash
# Create and fill the benchmark database `shop` on the scratch cluster.
#
# Usage (as root): bench/index-advisor/load.sh [--force]
#
# Starts the cluster if needed (cluster.sh start). Skips the load when `shop`
# was already loaded from the current schema.sql/data.sql/indexes.sql; with
# --force (or when those files changed, or a previous load was interrupted)
# it drops and reloads. Takes about a minute on 2 cores.
#
# Roles: `app` owns the tables and is who the workload runs as; `postgres`
# (superuser) creates the extensions and is who the advisors connect as.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

FORCE=0
while [[ $# -gt 0 ]]; do
    case $1 in
        --force) FORCE=1; shift ;;
        -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done

require_root
"$IA_DIR/cluster.sh" start
want="loaded $(load_hash)"

if db_exists; then
    stamp=$(loaded_stamp)
    if [[ $FORCE -eq 0 && $stamp == "$want" ]]; then
        log "database $DB already loaded from the current files; nothing to do (--force reloads)"
        exit 0
    fi
    if [[ $FORCE -eq 0 && $stamp == loaded* ]]; then
        log "database $DB was loaded from different schema/data files ($stamp, now $want): reloading"
    elif [[ $FORCE -eq 0 ]]; then
        log "database $DB exists but its load never finished: reloading"
    fi
    admin -d postgres -c "DROP DATABASE $DB WITH (FORCE)"
fi

admin -d postgres <<'SQL'
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'app') THEN
        CREATE ROLE app LOGIN;
    END IF;
END $$;
SQL
admin -d postgres -c "CREATE DATABASE $DB OWNER app"
admin -d "$DB" -c "CREATE EXTENSION hypopg" -c "CREATE EXTENSION pg_stat_statements"

t0=$(date +%s)
log "schema + data (1.2 M orders, 2.5 M order items, 800 k events, ...)"
# One psql session for all three files: data.sql's setseed() must govern
# every random() of the load.
PGOPTIONS='-c client_min_messages=warning' psql -X -q -v ON_ERROR_STOP=1 \
    -h "$PGDATA_DIR" -p "$PORT" -U app -d "$DB" \
    -f "$IA_DIR/schema.sql" -f "$IA_DIR/data.sql" -f "$IA_DIR/indexes.sql" >/dev/null
t1=$(date +%s)
log "VACUUM ANALYZE (sets the visibility map too, so index-only scans are possible)"
admin -d "$DB" -c "VACUUM (ANALYZE)"
admin -d "$DB" -c "CHECKPOINT"
t2=$(date +%s)
admin -d postgres -c "COMMENT ON DATABASE $DB IS '$want'"
# the indexes the application has, so run.sh can tell leftovers of an
# interrupted measurement from them
admin_val -d "$DB" -c "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1" >"$BASE/load-indexes.txt"

log "loaded in $((t2 - t0)) s (data + indexes $((t1 - t0)) s, vacuum/analyze $((t2 - t1)) s):"
admin -d "$DB" -c "
SELECT c.relname AS table, c.reltuples::bigint AS rows,
       pg_size_pretty(pg_table_size(c.oid)) AS heap,
       pg_size_pretty(pg_indexes_size(c.oid)) AS indexes
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'public' AND c.relkind = 'r'
ORDER BY c.reltuples DESC" >&2
