-- pgbench's select-only (-S) script, run by pgadvisor on the tables
-- `pgbench -i` made in the bench database: the same statement on the same
-- rows as pgbench, so the comparison measures the two load generators and
-- nothing else (the built-in workload runs on a scratch copy made each run).
\set aid random(1, 100000 * :scale)
SELECT abalance FROM public.pgbench_accounts WHERE aid = :aid;
