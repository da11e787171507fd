-- The benchmark's own sessions (found by their application_name) by state
-- and wait event: one sample of the wait-event sampler.
SELECT state, wait_event_type, wait_event, count(*) AS sessions
  FROM pg_stat_activity
 WHERE application_name = $1
   AND backend_type = 'client backend'
 GROUP BY 1, 2, 3
