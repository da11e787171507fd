-- bench-pool built-in "select-only": pgbench's -S script, against the
-- scratch schema (on the pool sessions' search_path).
\set aid random(1, 100000 * :scale)
SELECT abalance FROM pgbench_accounts WHERE aid = :aid;
