-- pgadvisor health: per table (and materialized view) size, cache and
-- scan counters, vacuum / analyze state, freeze age and the row width the
-- planner's statistics give. pg_stats shows a column only to a role that
-- may read it, so stat_columns < columns means "width unknown here".
SELECT n.nspname::text AS schema_name,
       c.relname::text AS table_name,
       c.relpages::int8 AS relpages,
       c.reltuples::float8 AS reltuples,
       coalesce((SELECT substring(o FROM '^fillfactor=(\d+)$')::int4
                   FROM unnest(c.reloptions) AS o
                  WHERE o LIKE 'fillfactor=%'), 100) AS fillfactor,
       coalesce((SELECT substring(o FROM '^autovacuum_enabled=(.*)$')
                   FROM unnest(c.reloptions) AS o
                  WHERE o LIKE 'autovacuum_enabled=%'), 'true') NOT IN ('false', 'off', '0', 'no') AS autovacuum_enabled,
       age(c.relfrozenxid)::int8 AS xid_age,
       io.heap_blks_read::int8, io.heap_blks_hit::int8,
       io.idx_blks_read::int8, io.idx_blks_hit::int8,
       s.seq_scan::int8, s.seq_tup_read::int8, s.idx_scan::int8,
       s.n_live_tup::int8, s.n_dead_tup::int8,
       s.n_mod_since_analyze::int8, s.n_ins_since_vacuum::int8,
       extract(epoch FROM now() - greatest(s.last_vacuum, s.last_autovacuum))::float8 AS vacuum_age_s,
       extract(epoch FROM now() - greatest(s.last_analyze, s.last_autoanalyze))::float8 AS analyze_age_s,
       (SELECT count(*) FROM pg_attribute a
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)::int4 AS columns,
       (SELECT count(*) FROM pg_stats st
         WHERE st.schemaname = n.nspname AND st.tablename = c.relname
           AND NOT st.inherited)::int4 AS stat_columns,
       (SELECT sum((1 - st.null_frac) * st.avg_width)
          FROM pg_stats st
         WHERE st.schemaname = n.nspname AND st.tablename = c.relname
           AND NOT st.inherited)::float8 AS data_width,
       (SELECT bool_or(st.null_frac > 0)
          FROM pg_stats st
         WHERE st.schemaname = n.nspname AND st.tablename = c.relname
           AND NOT st.inherited) AS has_nulls
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid
LEFT JOIN pg_statio_all_tables io ON io.relid = c.oid
WHERE c.relkind IN ('r', 'm')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
ORDER BY n.nspname, c.relname
