-- ORDER BY / LIMIT / OFFSET on the primary key, plus a decimal literal
\set aid random(1, 100000 * :scale - 1000)
\set lim random(1, 50)
\set off random(0, 20)
SELECT aid, abalance * 1.05 AS with_interest FROM pgbench_accounts WHERE aid > :aid ORDER BY aid LIMIT :lim OFFSET :off;
