-- pgadvisor what-if: is HypoPG installed in this database (and in which
-- schema), could it be, and can it hide indexes (1.4.0+).
SELECT (SELECT default_version FROM pg_available_extensions WHERE name = 'hypopg') AS available_version,
       e.extversion AS installed_version,
       n.nspname::text AS schema_name,
       EXISTS (SELECT 1 FROM pg_proc p
               WHERE p.proname = 'hypopg_hide_index' AND p.pronamespace = e.extnamespace) AS can_hide,
       current_setting('server_version_num')::int4 AS server_version_num,
       current_setting('random_page_cost')::float8 AS random_page_cost
FROM (SELECT 1) AS one
LEFT JOIN pg_extension e ON e.extname = 'hypopg'
LEFT JOIN pg_namespace n ON n.oid = e.extnamespace
