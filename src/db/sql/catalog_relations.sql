-- pgadvisor catalog: the relations pgadvisor reasons about, with size and
-- activity counters (readable by any role; pg_monitor is not required here).
SELECT c.oid::int8 AS relid,
       n.nspname::text AS schema_name,
       c.relname::text AS relation_name,
       c.relkind::text AS relkind,
       c.reltuples::float8 AS row_estimate,
       pg_relation_size(c.oid)::int8 AS size_bytes,
       pg_total_relation_size(c.oid)::int8 AS total_size_bytes,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid, true) END AS view_definition,
       pn.nspname::text AS parent_schema,
       p.relname::text AS parent_name,
       s.seq_scan::int8 AS seq_scans,
       s.idx_scan::int8 AS index_scans,
       s.n_tup_ins::int8 AS inserts,
       s.n_tup_upd::int8 AS updates,
       s.n_tup_hot_upd::int8 AS hot_updates,
       s.n_tup_del::int8 AS deletes,
       s.n_live_tup::int8 AS live_tuples,
       s.n_dead_tup::int8 AS dead_tuples
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_inherits inh ON c.relispartition AND inh.inhrelid = c.oid
LEFT JOIN pg_class p ON p.oid = inh.inhparent
LEFT JOIN pg_namespace pn ON pn.oid = p.relnamespace
LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
ORDER BY n.nspname, c.relname
