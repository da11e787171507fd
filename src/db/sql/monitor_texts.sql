-- pgadvisor monitor: the first 200 characters of the texts of the
-- statements about to be shown ($1: their queryids). `{view}` is filled in
-- as in monitor_statements.sql.
SELECT DISTINCT ON (s.queryid) s.queryid, left(s.query, 200) AS query
FROM {view} AS s
WHERE s.dbid = (SELECT oid FROM pg_catalog.pg_database
                WHERE datname = current_database())
  AND s.queryid = ANY($1)
ORDER BY s.queryid
