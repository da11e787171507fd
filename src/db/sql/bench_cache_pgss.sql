-- bench-cache: calls and execution time pg_stat_statements has counted in
-- this database for the statements that mention the run's scratch schema
-- ($1, its quoted name, unique to the run). The view comes
-- schema-qualified, as the probe found it.
SELECT query, calls::bigint AS calls, total_exec_time::float8 AS total_exec_ms
FROM {view}
WHERE dbid = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
  AND strpos(query, $1) > 0
