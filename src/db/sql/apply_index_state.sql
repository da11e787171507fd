-- pgadvisor apply: does an index of this name exist in this schema, is it
-- valid (a failed CREATE INDEX CONCURRENTLY leaves it invalid), how big.
SELECT i.indisvalid AS valid,
       pg_relation_size(c.oid)::int8 AS size_bytes
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_index i ON i.indexrelid = c.oid
WHERE n.nspname = $1 AND c.relname = $2
