-- pgadvisor apply: the table an index of this name belongs to (a name is
-- unique per schema, not per table: an index of that name on another table
-- must not be mistaken for ours).
SELECT tn.nspname::text AS table_schema, t.relname::text AS table_name
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_index i ON i.indexrelid = c.oid
JOIN pg_class t ON t.oid = i.indrelid
JOIN pg_namespace tn ON tn.oid = t.relnamespace
WHERE n.nspname = $1 AND c.relname = $2
