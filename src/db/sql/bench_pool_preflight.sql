-- bench-pool preflight: the server, and every limit on how many connections
-- this role may still open here (max_connections less the reserved slots and
-- the client backends already in use, the role's and the database's
-- CONNECTION LIMIT, which do not bind superusers).
SELECT current_setting('server_version') AS server_version,
       current_setting('server_version_num')::int AS server_version_num,
       current_setting('max_connections')::bigint AS max_connections,
       current_setting('superuser_reserved_connections')::bigint AS superuser_reserved,
       coalesce(current_setting('reserved_connections', true), '0')::bigint AS reserved,
       (SELECT count(*) FROM pg_stat_activity
         WHERE backend_type = 'client backend') AS in_use,
       r.rolsuper AS superuser,
       r.rolconnlimit::bigint AS role_limit,
       (SELECT count(*) FROM pg_stat_activity
         WHERE backend_type = 'client backend' AND usesysid = r.oid) AS role_in_use,
       d.datconnlimit::bigint AS database_limit,
       (SELECT count(*) FROM pg_stat_activity
         WHERE backend_type = 'client backend' AND datid = d.oid) AS database_in_use,
       current_database() AS database_name,
       current_user AS role_name,
       coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false) AS ssl,
       has_database_privilege(current_database(), 'CREATE') AS can_create
  FROM pg_roles r, pg_database d
 WHERE r.rolname = current_user
   AND d.datname = current_database()
