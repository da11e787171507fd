#!/usr/bin/env bash
# Installs and starts what pgadvisor's tests need, idempotently, as root on a
# Debian machine: PostgreSQL 15 (trust auth on 127.0.0.1, pg_stat_statements
# preloaded), the hypopg extension package, and Redis. Safe to run again: each
# step checks first and only acts on what is missing.
set -euo pipefail

PGVER=15
PGCLUSTER=main
PGPORT=5432
log() { printf 'setup: %s\n' "$*" >&2; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    log "apt-get update"
    apt-get update -qq
    apt_updated=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

if [ "$(id -u)" != 0 ]; then
  echo "setup-services.sh must run as root (it installs packages and restarts services)" >&2
  exit 1
fi

# 1. Packages.
[ -x /usr/lib/postgresql/$PGVER/bin/postgres ] || apt_install postgresql-$PGVER postgresql-client-$PGVER
[ -f /usr/share/postgresql/$PGVER/extension/pg_stat_statements.control ] || apt_install postgresql-contrib
[ -f /usr/share/postgresql/$PGVER/extension/hypopg.control ] || apt_install postgresql-$PGVER-hypopg
command -v redis-server >/dev/null || apt_install redis-server
command -v redis-cli >/dev/null || apt_install redis-tools

# 2. The cluster exists and runs.
if ! pg_lsclusters -h 2>/dev/null | awk '{print $1" "$2}' | grep -qx "$PGVER $PGCLUSTER"; then
  log "creating cluster $PGVER/$PGCLUSTER"
  pg_createcluster $PGVER $PGCLUSTER --port $PGPORT >/dev/null
fi
pg_start() { pg_ctlcluster --skip-systemctl-redirect $PGVER $PGCLUSTER "$1" >/dev/null 2>&1 || pg_ctlcluster $PGVER $PGCLUSTER "$1"; }
if ! pg_lsclusters -h | awk -v v=$PGVER -v c=$PGCLUSTER '$1==v && $2==c {print $4}' | grep -q online; then
  log "starting PostgreSQL $PGVER/$PGCLUSTER"
  pg_start start
fi
for _ in $(seq 1 60); do pg_isready -q -h /var/run/postgresql -p $PGPORT && break; sleep 0.5; done

psql_local() { runuser -u postgres -- psql -X -q -t -A -h /var/run/postgresql -p $PGPORT -d postgres "$@"; }

# 3. Trust authentication for the tests on loopback TCP.
hba=$(psql_local -c "SHOW hba_file")
if ! grep -q '# pgadvisor-tests' "$hba"; then
  if ! PGCONNECT_TIMEOUT=5 psql -X -w -h 127.0.0.1 -p $PGPORT -U postgres -d postgres -c 'select 1' >/dev/null 2>&1; then
    log "allowing trust authentication on 127.0.0.1 and ::1 in $hba"
    tmp=$(mktemp)
    { echo "host all all 127.0.0.1/32 trust # pgadvisor-tests"
      echo "host all all ::1/128 trust # pgadvisor-tests"
      cat "$hba"; } > "$tmp"
    cat "$tmp" > "$hba"
    rm -f "$tmp"
    psql_local -c "SELECT pg_reload_conf()" >/dev/null
  fi
fi

# 4. pg_stat_statements preloaded (needs a restart once).
preload=$(psql_local -c "SHOW shared_preload_libraries")
if ! printf '%s' "$preload" | tr ',' '\n' | tr -d ' "' | grep -qx pg_stat_statements; then
  new=$(printf '%s' "$preload" | sed 's/^ *//; s/ *$//')
  if [ -n "$new" ]; then new="$new, pg_stat_statements"; else new="pg_stat_statements"; fi
  log "preloading pg_stat_statements (shared_preload_libraries = '$new') and restarting"
  psql_local -c "ALTER SYSTEM SET shared_preload_libraries = '$new'" >/dev/null
  pg_start restart
  for _ in $(seq 1 60); do pg_isready -q -h /var/run/postgresql -p $PGPORT && break; sleep 0.5; done
fi
# Enough connections for parallel tests.
maxconn=$(psql_local -c "SHOW max_connections")
if [ "$maxconn" -lt 100 ]; then
  log "raising max_connections to 100 and restarting"
  psql_local -c "ALTER SYSTEM SET max_connections = 100" >/dev/null
  pg_start restart
  for _ in $(seq 1 60); do pg_isready -q -h /var/run/postgresql -p $PGPORT && break; sleep 0.5; done
fi

# A TLS test that was killed half-way may have left the server pointing at
# its temporary certificate; put the packaged settings back.
if grep -q "pgadvisor-test-" "$(psql_local -c 'SHOW data_directory')/postgresql.auto.conf" 2>/dev/null; then
  log "resetting TLS settings left by an interrupted test"
  for s in ssl ssl_cert_file ssl_key_file; do psql_local -c "ALTER SYSTEM RESET $s" >/dev/null; done
  psql_local -c "SELECT pg_reload_conf()" >/dev/null
fi

# 5. Redis.
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  log "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 40); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.25; done
fi

# 6. Final check: fail loudly rather than let tests fail obscurely.
psql -X -w -h 127.0.0.1 -p $PGPORT -U postgres -d postgres -tAc "SELECT 'postgres ' || current_setting('server_version')" >&2
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null
log "PostgreSQL, hypopg package, pg_stat_statements preload and Redis are ready"
