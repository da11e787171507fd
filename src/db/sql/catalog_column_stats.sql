-- pgadvisor catalog: planner statistics per column. pg_stats shows only
-- the columns this role may SELECT; the loader notes what it could not see.
-- Partitioned tables have only inherited statistics; plain tables both.
SELECT schemaname::text AS schema_name,
       tablename::text AS relation_name,
       attname::text AS column_name,
       inherited,
       null_frac::float8 AS null_frac,
       n_distinct::float8 AS n_distinct
FROM pg_stats
WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
ORDER BY schemaname, tablename, attname, inherited
