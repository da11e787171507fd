-- bench-cache, workload trace with writes: a write to one key bumps its
-- version (committed; the caches then delete the key).
UPDATE {schema}.versions SET version = version + 1 WHERE id = $1 RETURNING version
