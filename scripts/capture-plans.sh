#!/usr/bin/env bash
# Capture REAL PostgreSQL EXPLAIN plans as test fixtures for src/plan/ and
# src/findings/.
#
# Usage:
#     bash scripts/capture-plans.sh
#
# It connects to the running test server (127.0.0.1:5432 as postgres, trust;
# override with PGADVISOR_CAPTURE_HOST / _PORT / _USER), creates the scratch
# database pgadvisor_plans_capture, provokes each condition a finding rule
# looks for, and writes each plan as PostgreSQL printed it to
# fixtures/plans/<name>.json. The scratch database is dropped on exit, also
# on failure. Each capture is checked for the condition it was meant to
# provoke, so a server that plans differently fails the script instead of
# leaving a fixture that proves nothing.
#
# Timings, buffer counts and JIT times differ between runs; the conditions
# (spills, lossy blocks, heap fetches, misestimates, ...) do not. The rule
# tests assert conditions, not timings, except for the three timing rules
# (planning-over-execution, jit-dominating, generic-plan-worse), whose
# captures are checked here for the timing relation they need.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$REPO/fixtures/plans
DB=pgadvisor_plans_capture
HOST=${PGADVISOR_CAPTURE_HOST:-127.0.0.1}
PORT=${PGADVISOR_CAPTURE_PORT:-5432}
USER_NAME=${PGADVISOR_CAPTURE_USER:-postgres}

log() { printf '[capture-plans] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v psql >/dev/null || die "psql not on PATH"
command -v jq >/dev/null || die "jq not on PATH (apt-get install jq)"

unset PGOPTIONS PGSERVICE PGDATABASE || true
export PGCONNECT_TIMEOUT=10

# sql DB [psql args...]: quiet, tuples only, unaligned, stop on the first error
sql() {
    local db=$1; shift
    PGOPTIONS='-c client_min_messages=warning' \
        psql -X -q -At -v ON_ERROR_STOP=1 -h "$HOST" -p "$PORT" -U "$USER_NAME" -d "$db" "$@"
}

cleanup() {
    local rc=$?
    sql postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "${STAGE:-}"
    if [[ $rc -ne 0 ]]; then log "FAILED (exit $rc)"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

sql postgres -c "SELECT 1" >/dev/null || die "cannot connect to $HOST:$PORT as $USER_NAME"
version=$(sql postgres -c "SHOW server_version")
log "server $version at $HOST:$PORT"

sql postgres -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"
# Serial plans and no JIT unless a capture asks for them, so each plan shows
# one condition and nothing else by accident.
sql postgres -c "ALTER DATABASE $DB SET max_parallel_workers_per_gather = 0" \
    -c "ALTER DATABASE $DB SET jit = off"

STAGE=$(mktemp -d /tmp/pgadvisor-plans.XXXXXX)

# ---------------------------------------------------------------------------
# Schema and data. Autovacuum is off on every table: statistics and the
# visibility map change only when this script says so.
# ---------------------------------------------------------------------------
log "loading scratch data"
sql "$DB" <<'SQL'
SELECT setseed(0.42) \g /dev/null

-- 20k customers, 200k orders; no index on orders.customer_id.
CREATE TABLE customers (
    id      int PRIMARY KEY,
    name    text NOT NULL,
    region  int NOT NULL
) WITH (autovacuum_enabled = off);
INSERT INTO customers SELECT g, 'customer ' || g, g % 50 FROM generate_series(1, 20000) g;

CREATE TABLE orders (
    id          int PRIMARY KEY,
    customer_id int NOT NULL,
    status      text NOT NULL,
    amount      numeric(12, 2) NOT NULL,
    created_at  timestamp NOT NULL
) WITH (autovacuum_enabled = off);
INSERT INTO orders
SELECT g,
       1 + (random() * 19999)::int,
       (ARRAY['new', 'paid', 'shipped', 'done'])[1 + g % 4],
       round((random() * 1000)::numeric, 2),
       timestamp '2024-01-01' + g * interval '1 minute'
FROM generate_series(1, 200000) g;

-- Unindexed inner side for the nested loop.
CREATE TABLE payments (
    customer_id int NOT NULL,
    paid        numeric(12, 2) NOT NULL
) WITH (autovacuum_enabled = off);
INSERT INTO payments SELECT 1 + g % 5000, g FROM generate_series(1, 10000) g;

-- Correlated columns: zip decides city (200 zips, 100 cities). The planner
-- multiplies the two selectivities and underestimates a filter on both:
-- 400,000 / 100 / 200 = 20 rows expected, 2,000 found.
CREATE TABLE addresses (
    id    int PRIMARY KEY,
    city  int NOT NULL,
    zip   int NOT NULL
) WITH (autovacuum_enabled = off);
INSERT INTO addresses SELECT g, (g % 200) / 2, g % 200 FROM generate_series(1, 400000) g;

-- Stale statistics: analyzed when it held 1,000 'old' rows, then 200k 'new'
-- rows arrived and nobody analyzed it again.
CREATE TABLE events (
    id    int NOT NULL,
    kind  text NOT NULL
) WITH (autovacuum_enabled = off);
INSERT INTO events SELECT g, 'old' FROM generate_series(1, 1000) g;
ANALYZE events;
INSERT INTO events SELECT g, 'new' FROM generate_series(1001, 201000) g;

-- Never vacuumed: the visibility map is empty, so an index-only scan
-- fetches every heap tuple.
CREATE TABLE measurements (
    id    int NOT NULL,
    v     int NOT NULL
) WITH (autovacuum_enabled = off);
INSERT INTO measurements SELECT g, (random() * 100000)::int FROM generate_series(1, 200000) g;
CREATE INDEX measurements_v ON measurements (v);

-- Random values spread over every page: a bitmap over 10 % of them needs
-- an entry per heap page.
CREATE TABLE readings (
    id      int NOT NULL,
    sensor  int NOT NULL,
    value   float8 NOT NULL
) WITH (autovacuum_enabled = off);
INSERT INTO readings SELECT g, (random() * 999)::int, random() FROM generate_series(1, 200000) g;
CREATE INDEX readings_sensor ON readings (sensor);

-- Larger than a quarter of shared_buffers (128MB): a sequential scan uses a
-- small ring of buffers and reads nearly every block instead of hitting.
-- CREATE TABLE AS writes through a ring too, so little of it stays cached.
CREATE TABLE wide WITH (autovacuum_enabled = off) AS
SELECT g AS id, repeat(md5(g::text), 6) AS payload FROM generate_series(1, 300000) g;

-- The generic plan of `state = $1` cannot use a partial index whose
-- predicate names a value (it must serve any parameter); the custom plan for
-- that value can. A classic reason for a generic plan far worse than the
-- custom one.
CREATE TABLE jobs (
    id      int PRIMARY KEY,
    state   text NOT NULL,
    note    text NOT NULL
) WITH (autovacuum_enabled = off);
INSERT INTO jobs
SELECT g, CASE WHEN g % 1000 = 0 THEN 'failed' ELSE 'done' END, 'job ' || g
FROM generate_series(1, 200000) g;
CREATE INDEX jobs_failed ON jobs (id) WHERE state = 'failed';

-- A small, well-analyzed, vacuumed table for the clean plan.
CREATE TABLE countries (
    id    int PRIMARY KEY,
    name  text NOT NULL
) WITH (autovacuum_enabled = off);
INSERT INTO countries SELECT g, 'country ' || g FROM generate_series(1, 1000) g;

-- Twelve small tables joined in a chain: planning explores many join orders,
-- executing touches a few rows.
DO $$
BEGIN
    FOR i IN 1..12 LOOP
        EXECUTE format('CREATE TABLE chain%s (id int PRIMARY KEY, next_id int NOT NULL) WITH (autovacuum_enabled = off)', i);
        EXECUTE format('INSERT INTO chain%s SELECT g, g FROM generate_series(1, 10) g', i);
    END LOOP;
END $$;

ANALYZE customers, orders, payments, addresses, measurements, readings, wide, jobs;
VACUUM ANALYZE countries, chain1, chain2, chain3, chain4, chain5, chain6,
    chain7, chain8, chain9, chain10, chain11, chain12;
SQL

# capture NAME <<SQL: runs the script (settings, then exactly one EXPLAIN ...
# FORMAT JSON) in one session and keeps its output as the fixture.
capture() {
    local name=$1
    log "capture $name"
    sql "$DB" >"$STAGE/$name.json"
    jq -e '.[0].Plan."Node Type"' "$STAGE/$name.json" >/dev/null \
        || die "$name: output is not an EXPLAIN FORMAT JSON document"
}

# expect NAME JQ_FILTER: the capture must show the condition it provokes
expect() {
    local name=$1 filter=$2
    jq -e "$filter" "$STAGE/$name.json" >/dev/null \
        || die "$name: the plan does not show the expected condition ($filter)"
}

# every node of the plan tree
NODES='[.[0].Plan | recurse(.Plans[]?)]'

capture seq_scan_large_table <<'SQL'
EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)
SELECT * FROM orders WHERE customer_id BETWEEN 4200 AND 4300 AND status = 'paid';
SQL
expect seq_scan_large_table "$NODES | any(.\"Node Type\" == \"Seq Scan\" and .\"Rows Removed by Filter\" > 190000)"

capture parallel_seq_scan <<'SQL'
SET max_parallel_workers_per_gather = 2;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
EXPLAIN (ANALYZE, BUFFERS, VERBOSE, FORMAT JSON)
SELECT id, amount FROM orders WHERE customer_id = 777;
SQL
expect parallel_seq_scan "$NODES | any(.\"Node Type\" == \"Seq Scan\" and .\"Parallel Aware\")"

capture row_misestimate_correlated <<'SQL'
EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)
SELECT * FROM addresses WHERE city = 42 AND zip = 85;
SQL
expect row_misestimate_correlated "$NODES | any(.\"Actual Rows\" >= 10 * .\"Plan Rows\")"

capture row_misestimate_stale <<'SQL'
EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)
SELECT count(*) FROM events WHERE kind = 'new';
SQL
expect row_misestimate_stale "$NODES | any(.\"Actual Rows\" >= 10 * .\"Plan Rows\")"

capture sort_spill <<'SQL'
SET work_mem = '64kB';
EXPLAIN (ANALYZE, BUFFERS, SETTINGS, FORMAT JSON)
SELECT * FROM orders ORDER BY amount, created_at;
SQL
expect sort_spill "$NODES | any(.\"Sort Space Type\" == \"Disk\")"

capture hash_spill <<'SQL'
SET work_mem = '64kB';
SET enable_mergejoin = off;
SET enable_nestloop = off;
EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)
SELECT c.region, o.amount FROM orders o JOIN customers c ON c.id = o.customer_id;
SQL
expect hash_spill "$NODES | any(.\"Hash Batches\" > 1)"

capture hashagg_spill <<'SQL'
SET work_mem = '64kB';
SET enable_sort = off;
EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)
SELECT customer_id, count(*), sum(amount) FROM orders GROUP BY customer_id;
SQL
expect hashagg_spill "$NODES | any(.\"Disk Usage\" > 0)"

capture nested_loop_unindexed_inner <<'SQL'
SET enable_hashjoin = off;
SET enable_mergejoin = off;
EXPLAIN (ANALYZE, BUFFERS, VERBOSE, FORMAT JSON)
SELECT c.name, p.paid
FROM customers c LEFT JOIN payments p ON p.customer_id = c.id
WHERE c.id <= 1000;
SQL
# (a LEFT JOIN keeps payments on the inner side; hash and merge joins are
# off so the planner has nothing but a nested loop over it)
expect nested_loop_unindexed_inner "$NODES | any(.\"Node Type\" == \"Nested Loop\" and .Plans[1].\"Actual Loops\" >= 1000
    and ([.Plans[1] | recurse(.Plans[]?) | .\"Node Type\"] | all(test(\"Index\") | not)))"

capture heap_fetches <<'SQL'
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)
SELECT v FROM measurements WHERE v BETWEEN 1000 AND 60000;
SQL
expect heap_fetches "$NODES | any(.\"Node Type\" == \"Index Only Scan\" and .\"Heap Fetches\" > 10000)"

capture lossy_bitmap <<'SQL'
SET work_mem = '64kB';
SET enable_seqscan = off;
SET enable_indexscan = off;
EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)
SELECT avg(value) FROM readings WHERE sensor BETWEEN 100 AND 199;
SQL
expect lossy_bitmap "$NODES | any(.\"Lossy Heap Blocks\" > 0)"

capture buffers_read_share <<'SQL'
EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)
SELECT count(*) FROM wide;
SQL
expect buffers_read_share '.[0].Plan."Shared Read Blocks" > 2 * .[0].Plan."Shared Hit Blocks"'

capture jit_dominating <<'SQL'
SET jit = on;
SET jit_above_cost = 0;
SET jit_inline_above_cost = 0;
SET jit_optimize_above_cost = 0;
-- load the JIT provider first: its one-time load counts as execution time,
-- not JIT time, and is not what this plan is about
SELECT count(*) FROM customers WHERE id <= 10 \g /dev/null
EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)
SELECT region, count(*), sum(id) FROM customers WHERE id <= 100 GROUP BY region;
SQL
# (pg_jit_available() is false where the server was built without LLVM; the
# JIT section is then missing and the check below fails with that hint)
expect jit_dominating '.[0].JIT.Timing.Total > .[0]."Execution Time" / 2'

capture planning_over_execution <<'SQL'
SET join_collapse_limit = 12;
SET from_collapse_limit = 12;
SET geqo_threshold = 20;
EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)
SELECT count(*)
FROM chain1 a1
JOIN chain2 a2 ON a2.id = a1.next_id
JOIN chain3 a3 ON a3.id = a2.next_id
JOIN chain4 a4 ON a4.id = a3.next_id
JOIN chain5 a5 ON a5.id = a4.next_id
JOIN chain6 a6 ON a6.id = a5.next_id
JOIN chain7 a7 ON a7.id = a6.next_id
JOIN chain8 a8 ON a8.id = a7.next_id
JOIN chain9 a9 ON a9.id = a8.next_id
JOIN chain10 a10 ON a10.id = a9.next_id
JOIN chain11 a11 ON a11.id = a10.next_id
JOIN chain12 a12 ON a12.id = a11.next_id
WHERE a1.id <= 3;
SQL
expect planning_over_execution '.[0]."Planning Time" > 2 * .[0]."Execution Time"'

# The same prepared statement for the value the partial index serves: the
# generic plan (for "any value") against the custom plan for 'failed'.
generic_sql() {
    cat <<SQL
PREPARE by_state(text) AS SELECT id, note FROM jobs WHERE state = \$1;
SET plan_cache_mode = $1;
EXPLAIN ($2 FORMAT JSON) EXECUTE by_state('failed');
SQL
}
generic_sql force_generic_plan 'ANALYZE, BUFFERS,' | capture generic_plan
generic_sql force_generic_plan '' | capture generic_plan_estimate
generic_sql force_custom_plan 'ANALYZE, BUFFERS,' | capture custom_plan
expect generic_plan "$NODES | any(.\"Node Type\" == \"Seq Scan\")"
expect generic_plan_estimate '.[0] | has("Execution Time") | not'
expect custom_plan "$NODES | any(.\"Node Type\" | test(\"Index|Bitmap\"))"
g_ms=$(jq '.[0]."Execution Time"' "$STAGE/generic_plan.json")
c_ms=$(jq '.[0]."Execution Time"' "$STAGE/custom_plan.json")
jq -en "$g_ms > 10 * $c_ms" >/dev/null \
    || die "generic plan ($g_ms ms) is not 10x slower than the custom plan ($c_ms ms)"

# A write with foreign-key triggers, rolled back: "Triggers" at the top level.
capture insert_with_triggers <<'SQL'
ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);
BEGIN;
EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)
INSERT INTO orders SELECT 300000 + g, g, 'new', 1, now() FROM generate_series(1, 500) g;
ROLLBACK;
SQL
expect insert_with_triggers '.[0].Triggers | length > 0'

# Subplans, CTEs, Limit, Append: shapes a parser must walk.
capture limit_subplan_cte <<'SQL'
EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)
WITH big AS MATERIALIZED (
    SELECT customer_id, sum(amount) AS total FROM orders GROUP BY customer_id
)
SELECT c.id, c.name,
       (SELECT max(o.amount) FROM orders o WHERE o.id = c.id) AS first_amount,
       b.total
FROM customers c
JOIN big b ON b.customer_id = c.id
WHERE c.region IN (SELECT region FROM customers WHERE id < 5)
UNION ALL
SELECT id, name, NULL, NULL FROM countries WHERE id < 3
ORDER BY 1
LIMIT 20;
SQL

# The clean plan: an index scan on a small, vacuumed, analyzed table.
capture clean_index_scan <<'SQL'
EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)
SELECT name FROM countries WHERE id = 42;
SQL
expect clean_index_scan "$NODES | any(.\"Node Type\" == \"Index Scan\")"

mkdir -p "$OUT"
for f in "$STAGE"/*.json; do
    mv "$f" "$OUT/"
done
log "wrote $(ls "$OUT" | wc -l) plans to fixtures/plans/ (PostgreSQL $version)"
