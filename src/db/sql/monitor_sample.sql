-- pgadvisor monitor: this database's cumulative counters and its client
-- sessions, in one statement so both are read at the same moment, with the
-- server's clock read beside them (rates divide by the difference between
-- two of these clock readings).
-- Sessions: client backends of this database other than this one. For
-- sessions of other roles, a role without pg_read_all_stats (pg_monitor
-- has it) sees NULL state, times and backend_type and the query
-- '<insufficient privilege>'; those are kept (and counted as hidden) when
-- they belong to a role (usesysid set), which background workers do not.
-- Idle sessions' last query is not sent: it is not needed.
WITH t AS (SELECT clock_timestamp() AS at)
SELECT current_database()::text AS database_name,
       extract(epoch FROM t.at)::float8 AS clock_s,
       to_char(t.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS sampled_at,
       extract(epoch FROM d.stats_reset)::float8 AS stats_reset_s,
       d.xact_commit, d.xact_rollback,
       d.blks_read, d.blks_hit,
       d.tup_returned, d.tup_fetched, d.tup_inserted, d.tup_updated, d.tup_deleted,
       d.temp_files, d.temp_bytes, d.deadlocks,
       (SELECT coalesce(json_agg(json_build_object(
                  'pid', a.pid,
                  'state', a.state,
                  'hidden', a.backend_type IS NULL,
                  'wait_event_type', a.wait_event_type,
                  'wait_event', a.wait_event,
                  'query_ms', (extract(epoch FROM t.at - a.query_start) * 1000)::float8,
                  'query', CASE WHEN a.state IS DISTINCT FROM 'idle'
                                THEN left(a.query, 200) END)), '[]'::json)
        FROM pg_catalog.pg_stat_activity AS a
        WHERE a.datid = d.datid
          AND a.pid <> pg_catalog.pg_backend_pid()
          AND (a.backend_type = 'client backend'
               OR (a.backend_type IS NULL AND a.usesysid IS NOT NULL))) AS sessions
FROM t
CROSS JOIN pg_catalog.pg_stat_database AS d
WHERE d.datname = current_database()
