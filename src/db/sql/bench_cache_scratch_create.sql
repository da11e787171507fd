-- bench-cache, synthetic key distributions: one row per cache key (id =
-- the key's number, 0-based), a payload the cache holds, and a version a
-- write bumps so stale cache reads can be told apart. In a scratch schema
-- that bench-cache always drops. One transaction: an interrupted or failed
-- setup leaves nothing behind. The schema name comes quoted; the key count
-- and the timeout are integers.
BEGIN;
SET LOCAL statement_timeout = '{timeout_ms}ms';
CREATE SCHEMA {schema};
CREATE TABLE {schema}.items (id int NOT NULL, payload text NOT NULL, version bigint NOT NULL);
INSERT INTO {schema}.items (id, payload, version)
  SELECT g, repeat(md5(g::text), 4), 1 FROM generate_series(0, {keys} - 1) AS g;
ALTER TABLE {schema}.items ADD PRIMARY KEY (id);
COMMIT;
