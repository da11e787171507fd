-- pgadvisor health: who we are and what we may read. pg_monitor grants
-- pg_read_all_stats (other sessions' state and queries).
SELECT current_user::text AS role_name,
       r.rolsuper AS is_superuser,
       pg_has_role(current_user, 'pg_read_all_stats', 'MEMBER') AS read_all_stats,
       current_database()::text AS database_name,
       (SELECT extract(epoch FROM now() - d.stats_reset)::float8
          FROM pg_stat_database d WHERE d.datname = current_database()) AS stats_reset_age_s
FROM pg_roles r
WHERE r.rolname = current_user
