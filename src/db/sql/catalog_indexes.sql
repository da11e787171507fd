-- pgadvisor catalog: indexes with their keys, options and usage.
-- indoption bits per key: 1 = DESC, 2 = NULLS FIRST.
SELECT i.indrelid::int8 AS relid,
       ic.relname::text AS index_name,
       am.amname::text AS method,
       i.indisunique AS is_unique,
       i.indisprimary AS is_primary,
       i.indisvalid AS is_valid,
       EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid) AS backs_constraint,
       i.indnkeyatts::int4 AS key_count,
       i.indkey::text AS indkey,
       i.indoption::text AS indoption,
       ARRAY(SELECT pg_get_indexdef(i.indexrelid, k, true)
             FROM generate_series(1, i.indnatts::int4) AS k
             ORDER BY k) AS key_texts,
       pg_get_expr(i.indpred, i.indrelid, true) AS predicate,
       pg_get_indexdef(i.indexrelid) AS definition,
       pg_relation_size(i.indexrelid)::int8 AS size_bytes,
       s.idx_scan::int8 AS scans
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_am am ON am.oid = ic.relam
JOIN pg_class c ON c.oid = i.indrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_all_indexes s ON s.indexrelid = i.indexrelid
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
ORDER BY i.indrelid, ic.relname
