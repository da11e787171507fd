-- aggregate over a BETWEEN range
\set lo random(1, 100000 * :scale - 1000)
\set hi :lo + random(100, 1000)
SELECT bid, count(*), sum(abalance) FROM pgbench_accounts WHERE aid BETWEEN :lo AND :hi GROUP BY bid;
