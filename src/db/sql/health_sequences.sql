-- pgadvisor health: sequences with how far they have come, and the type of
-- the column that owns them (a bigint sequence feeding an integer column
-- runs out at the column's limit). last_value is NULL when the sequence was
-- never used or this role may not read it; `readable` tells which.
SELECT s.schemaname::text AS schema_name,
       s.sequencename::text AS sequence_name,
       format_type(seq.seqtypid, NULL) AS data_type,
       s.last_value::numeric::text AS last_value,
       s.min_value::numeric::text AS min_value,
       s.max_value::numeric::text AS max_value,
       s.increment_by::int8 AS increment_by,
       s.cycle AS cycles,
       has_sequence_privilege(c.oid, 'SELECT,USAGE') AS readable,
       owner_n.nspname::text AS owner_schema,
       owner_c.relname::text AS owner_table,
       owner_a.attname::text AS owner_column,
       format_type(owner_a.atttypid, owner_a.atttypmod) AS owner_type
FROM pg_sequences s
JOIN pg_namespace n ON n.nspname = s.schemaname
JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = s.sequencename
JOIN pg_sequence seq ON seq.seqrelid = c.oid
LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
                     AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
LEFT JOIN pg_class owner_c ON owner_c.oid = d.refobjid
LEFT JOIN pg_namespace owner_n ON owner_n.oid = owner_c.relnamespace
LEFT JOIN pg_attribute owner_a ON owner_a.attrelid = d.refobjid AND owner_a.attnum = d.refobjsubid
ORDER BY 1, 2
