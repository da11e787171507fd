-- range select with BETWEEN, ordered
\set lo random(1, 100000 * :scale - 200)
\set hi :lo + random(5, 100)
SELECT aid, bid, abalance FROM pgbench_accounts WHERE aid BETWEEN :lo AND :hi ORDER BY aid;
