-- bench-cache, workload trace with --write-ratio: the logged statements
-- only read (in READ ONLY transactions), so a "write" to a key bumps that
-- key's version here instead, in a scratch schema that bench-cache always
-- drops. One row per distinct trace key (id = its dense number). One
-- transaction. The schema name comes quoted; the key count and the timeout
-- are integers.
BEGIN;
SET LOCAL statement_timeout = '{timeout_ms}ms';
CREATE SCHEMA {schema};
CREATE TABLE {schema}.versions (id int NOT NULL, version bigint NOT NULL);
INSERT INTO {schema}.versions (id, version)
  SELECT g, 1 FROM generate_series(0, {keys} - 1) AS g;
ALTER TABLE {schema}.versions ADD PRIMARY KEY (id);
COMMIT;
