-- three-way join, sent as a multi-line statement (exercises log continuation lines)
\set aid random(1, 100000 * :scale)
\set tid random(1, 10 * :scale)
SELECT a.aid, a.abalance, b.bbalance, t.tbalance
  FROM pgbench_accounts a
  JOIN pgbench_branches b ON b.bid = a.bid
  JOIN pgbench_tellers t ON t.bid = b.bid
 WHERE a.aid = :aid AND t.tid = :tid;
