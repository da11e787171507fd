-- pgadvisor check: can this role read pg_stat_statements (and others' texts)?
SELECT count(*)::bigint AS statements,
       count(*) FILTER (WHERE query = '<insufficient privilege>')::bigint AS hidden
FROM pg_stat_statements
