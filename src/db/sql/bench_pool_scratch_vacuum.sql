-- After loading, as pgbench -i does: visibility map and statistics.
VACUUM (ANALYZE) {schema}.pgbench_branches, {schema}.pgbench_tellers, {schema}.pgbench_accounts, {schema}.pgbench_history
