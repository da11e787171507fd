-- pgadvisor health: CHECK and FOREIGN KEY constraints added NOT VALID and
-- never validated (the planner cannot trust them; old rows are unchecked).
SELECT n.nspname::text AS schema_name,
       c.relname::text AS table_name,
       con.conname::text AS constraint_name,
       con.contype::text AS kind,
       pg_get_constraintdef(con.oid, true) AS definition
FROM pg_constraint con
JOIN pg_class c ON c.oid = con.conrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE NOT con.convalidated
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY 1, 2, 3
