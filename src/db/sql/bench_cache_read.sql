-- bench-cache: the cache-aside read of one key on a cache miss.
SELECT payload, version FROM {schema}.items WHERE id = $1
