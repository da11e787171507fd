-- pgadvisor check: who we are and what this role may do.
SELECT
    current_setting('server_version') AS server_version,
    current_setting('server_version_num')::int AS server_version_num,
    current_user::text AS role_name,
    current_database()::text AS database_name,
    (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS superuser,
    pg_has_role(current_user, 'pg_monitor', 'USAGE') AS pg_monitor,
    pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS pg_read_all_stats,
    has_database_privilege(current_database(), 'CREATE') AS can_create_in_database,
    -- pg_settings, not current_setting(): the latter errors for roles
    -- without superuser or pg_read_all_settings (a pg_monitor role).
    (SELECT setting FROM pg_settings WHERE name = 'shared_preload_libraries') AS shared_preload_libraries,
    coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false) AS ssl,
    (SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid()) AS ssl_version,
    current_setting('statement_timeout') AS statement_timeout,
    current_setting('lock_timeout') AS lock_timeout,
    current_setting('application_name') AS application_name
