-- pgadvisor workload: statements from pg_stat_statements, heaviest first.
-- Two placeholders are filled in from the probe before this is sent: the
-- view's schema-qualified name (the schema is quoted by the server), and
-- the top-level condition: `s.toplevel` where the view has that column
-- (PostgreSQL 14+; statements run inside functions are left out, their
-- callers already count their time), else `true`.
-- $1: every database (true) or only the connected one (false).
SELECT s.queryid,
       s.query,
       d.datname::text AS database_name,
       r.rolname::text AS role_name,
       s.calls,
       s.total_exec_time,
       s.min_exec_time,
       s.max_exec_time,
       s.mean_exec_time,
       s.stddev_exec_time,
       s.rows,
       s.total_plan_time,
       s.shared_blks_hit,
       s.shared_blks_read
FROM {view} AS s
LEFT JOIN pg_catalog.pg_database AS d ON d.oid = s.dbid
LEFT JOIN pg_catalog.pg_roles AS r ON r.oid = s.userid
WHERE ($1::boolean
       OR s.dbid = (SELECT oid FROM pg_catalog.pg_database
                    WHERE datname = current_database()))
  AND {toplevel}
ORDER BY s.total_exec_time DESC, s.queryid
