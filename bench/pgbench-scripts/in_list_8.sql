-- IN list, 8 integer elements
\set a1 random(1, 100000 * :scale)
\set a2 random(1, 100000 * :scale)
\set a3 random(1, 100000 * :scale)
\set a4 random(1, 100000 * :scale)
\set a5 random(1, 100000 * :scale)
\set a6 random(1, 100000 * :scale)
\set a7 random(1, 100000 * :scale)
\set a8 random(1, 100000 * :scale)
SELECT aid, abalance FROM pgbench_accounts WHERE aid IN (:a1, :a2, :a3, :a4, :a5, :a6, :a7, :a8);
