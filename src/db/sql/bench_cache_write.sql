-- bench-cache: a write to one key (committed; the caches then delete it).
UPDATE {schema}.items SET version = version + 1 WHERE id = $1 RETURNING version
