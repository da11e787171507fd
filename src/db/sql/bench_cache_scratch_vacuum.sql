-- After loading: visibility map and statistics, so reads are planned on
-- real numbers from the first one. The table is items or versions.
VACUUM (ANALYZE) {schema}.{table}
