-- pgadvisor apply: does an index of this name exist in this schema, is it
-- valid (a failed CREATE INDEX CONCURRENTLY leaves it invalid), how big,
-- and which table is it on (a name is unique per schema, not per table).
SELECT i.indisvalid AS valid,
       pg_relation_size(c.oid)::int8 AS size_bytes,
       tn.nspname::text AS table_schema,
       t.relname::text AS table_name
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_index i ON i.indexrelid = c.oid
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace tn ON tn.oid = t.relnamespace
WHERE n.nspname = $1 AND c.relname = $2
