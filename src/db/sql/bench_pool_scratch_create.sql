-- bench-pool built-in workloads: pgbench's four tables (as `pgbench -i`
-- makes them: fillfactor 100, 100,000 accounts, 10 tellers and 1 branch per
-- unit of scale) in a scratch schema that bench-pool drops when it ends.
-- One transaction: an interrupted or failed setup leaves nothing behind.
-- {schema} is a quoted identifier, {scale} and {timeout_ms} integers.
BEGIN;
SET LOCAL statement_timeout = '{timeout_ms}ms';
CREATE SCHEMA {schema};
CREATE TABLE {schema}.pgbench_branches (bid int NOT NULL, bbalance int, filler char(88)) WITH (fillfactor = 100);
CREATE TABLE {schema}.pgbench_tellers (tid int NOT NULL, bid int, tbalance int, filler char(84)) WITH (fillfactor = 100);
CREATE TABLE {schema}.pgbench_accounts (aid int NOT NULL, bid int, abalance int, filler char(84)) WITH (fillfactor = 100);
CREATE TABLE {schema}.pgbench_history (tid int, bid int, aid int, delta int, mtime timestamp, filler char(22));
INSERT INTO {schema}.pgbench_branches (bid, bbalance, filler)
  SELECT b, 0, '' FROM generate_series(1, {scale}) AS b;
INSERT INTO {schema}.pgbench_tellers (tid, bid, tbalance, filler)
  SELECT t, (t - 1) / 10 + 1, 0, '' FROM generate_series(1, 10 * {scale}) AS t;
INSERT INTO {schema}.pgbench_accounts (aid, bid, abalance, filler)
  SELECT a, (a - 1) / 100000 + 1, 0, '' FROM generate_series(1, 100000 * {scale}) AS a;
ALTER TABLE {schema}.pgbench_branches ADD PRIMARY KEY (bid);
ALTER TABLE {schema}.pgbench_tellers ADD PRIMARY KEY (tid);
ALTER TABLE {schema}.pgbench_accounts ADD PRIMARY KEY (aid);
COMMIT;
