-- IN list, 3 integer elements
\set a1 random(1, 100000 * :scale)
\set a2 random(1, 100000 * :scale)
\set a3 random(1, 100000 * :scale)
SELECT aid, abalance FROM pgbench_accounts WHERE aid IN (:a1, :a2, :a3);
