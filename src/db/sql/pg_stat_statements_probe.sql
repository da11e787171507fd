-- pgadvisor pg_stat_statements: can it be read in this database, where is
-- its view, and which columns does the view have (they changed between
-- versions)? One row even when the extension is not installed.
-- shared_preload_libraries comes from pg_settings, which leaves it out
-- (NULL here) for roles that may not see it, instead of failing.
SELECT current_setting('server_version_num')::int AS server_version_num,
       current_setting('server_version') AS server_version,
       current_database()::text AS database_name,
       (SELECT setting FROM pg_catalog.pg_settings
        WHERE name = 'shared_preload_libraries') AS shared_preload_libraries,
       (SELECT default_version::text FROM pg_catalog.pg_available_extensions
        WHERE name = 'pg_stat_statements') AS available_version,
       e.extversion::text AS installed_version,
       quote_ident(n.nspname::text) || '.pg_stat_statements' AS view_name,
       ARRAY(SELECT a.attname::text
             FROM pg_catalog.pg_attribute AS a
             JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid
             WHERE c.relname = 'pg_stat_statements'
               AND c.relnamespace = e.extnamespace
               AND a.attnum > 0
               AND NOT a.attisdropped) AS view_columns
FROM (SELECT 1) AS one
LEFT JOIN pg_catalog.pg_extension AS e ON e.extname = 'pg_stat_statements'
LEFT JOIN pg_catalog.pg_namespace AS n ON n.oid = e.extnamespace
