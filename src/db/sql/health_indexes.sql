-- pgadvisor health: B-tree index sizes with the key width the planner's
-- statistics give (plain column keys only; an expression key's width is
-- unknown here), for the bloat estimate; and whether a build is running.
SELECT n.nspname::text AS schema_name,
       c.relname::text AS table_name,
       ic.relname::text AS index_name,
       am.amname::text AS method,
       ic.relpages::int8 AS relpages,
       ic.reltuples::float8 AS reltuples,
       coalesce((SELECT substring(o FROM '^fillfactor=(\d+)$')::int4
                   FROM unnest(ic.reloptions) AS o
                  WHERE o LIKE 'fillfactor=%'), 90) AS fillfactor,
       i.indnatts::int4 AS key_columns,
       (SELECT count(*) FROM unnest(i.indkey::int2[]) AS k(attnum)
          JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
          JOIN pg_stats st ON st.schemaname = n.nspname AND st.tablename = c.relname
                          AND st.attname = a.attname AND NOT st.inherited
         WHERE k.attnum > 0)::int4 AS stat_columns,
       (SELECT sum((1 - st.null_frac) * st.avg_width)
          FROM unnest(i.indkey::int2[]) AS k(attnum)
          JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
          JOIN pg_stats st ON st.schemaname = n.nspname AND st.tablename = c.relname
                          AND st.attname = a.attname AND NOT st.inherited
         WHERE k.attnum > 0)::float8 AS key_width,
       EXISTS (SELECT 1 FROM pg_stat_progress_create_index p
                WHERE p.index_relid = i.indexrelid) AS being_built
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_am am ON am.oid = ic.relam
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE ic.relkind = 'i'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
ORDER BY n.nspname, c.relname, ic.relname
