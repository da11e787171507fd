-- pgadvisor health: checkpoints started by the timer and requested ones
-- (mostly max_wal_size filling up) since the counters were reset.
SELECT checkpoints_timed::int8, checkpoints_req::int8,
       extract(epoch FROM now() - stats_reset)::float8 AS stats_age_s
FROM pg_stat_bgwriter
