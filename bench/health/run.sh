#!/usr/bin/env bash
# How long `analyze --health-only` takes, and its memory, on a database with
# many tables and indexes (the catalog size is what the health queries scale
# with). Creates its own database on the test server, drops it afterwards.
#
# Usage: bench/health/run.sh [TABLES] (default 2000; 3 indexes each, one
# duplicate on every tenth table, 1,000 rows each).
# Needs: a release build (cargo build --release), psql, GNU time.
set -euo pipefail
cd "$(dirname "$0")/../.."
TABLES="${1:-2000}"
URL="${PGADVISOR_BENCH_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
DB="pgadvisor_bench_health_$$"
BIN=target/release/pgadvisor
[ -x "$BIN" ] || { echo "build first: cargo build --release" >&2; exit 1; }
admin() { psql "$URL" -X -q -v ON_ERROR_STOP=1 "$@"; }
target_url="${URL%/*}/$DB"
cleanup() { admin -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true; }
trap cleanup EXIT
admin -c "CREATE DATABASE \"$DB\""
# One statement per table (\gexec autocommits each): a single transaction
# would run out of lock slots.
psql "$target_url" -X -q -v ON_ERROR_STOP=1 <<SQL
SELECT format('CREATE TABLE t%s (id int PRIMARY KEY, a int, b int, note text);
  INSERT INTO t%s SELECT g, g %% 97, g %% 13, md5(g::text) FROM generate_series(1, 1000) g;
  CREATE INDEX t%s_a ON t%s (a); CREATE INDEX t%s_b ON t%s (b);', i, i, i, i, i, i)
FROM generate_series(1, $TABLES) i \gexec
SELECT format('CREATE INDEX t%s_b2 ON t%s (b)', i, i) FROM generate_series(10, $TABLES, 10) i \gexec
ANALYZE;
SQL
echo "database: $TABLES tables, $((TABLES * 3 + TABLES / 10)) indexes"
for run in 1 2 3; do
  /usr/bin/time -f "run $run: %e s wall, %M kB max RSS" \
    "$BIN" analyze -d "$target_url" --health-only --format json > /tmp/health-bench.json
done
python3 - <<'PY'
import json
doc = json.load(open("/tmp/health-bench.json"))
h = doc["health"]
print("findings:", h["counts"], "| duplicate-index:", sum(f["id"] == "duplicate-index" for f in h["findings"]))
PY
