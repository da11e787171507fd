-- pgadvisor health: every other session of the cluster (connection slots
-- are shared) with its ages in seconds, whether it is in this database,
-- and the sessions blocking it. Without pg_read_all_stats, other roles' sessions
-- show no state and '<insufficient privilege>' as query.
SELECT a.pid::int4,
       a.usename::text AS user_name,
       a.application_name::text,
       a.backend_type::text,
       coalesce(a.datname = current_database(), false) AS in_this_database,
       a.state::text,
       a.wait_event_type::text,
       a.wait_event::text,
       extract(epoch FROM now() - a.xact_start)::float8 AS xact_age_s,
       extract(epoch FROM now() - a.query_start)::float8 AS query_age_s,
       extract(epoch FROM now() - a.state_change)::float8 AS state_age_s,
       a.query::text,
       pg_blocking_pids(a.pid) AS blocked_by
FROM pg_stat_activity a
WHERE a.pid <> pg_backend_pid()
ORDER BY a.pid
