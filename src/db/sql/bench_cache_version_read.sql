-- bench-cache, workload trace with writes: the key's version, read in the
-- same REPEATABLE READ snapshot as the logged statement it goes with.
SELECT version FROM {schema}.versions WHERE id = $1
