-- pgadvisor monitor: pg_stat_statements counters of this database, without
-- texts: showtext => false spares the server reading its query-text file
-- on every sample; the few texts shown are read apart (monitor_texts.sql).
-- Two placeholders are filled in from the probe before this is sent:
-- `{toplevel}` (`s.toplevel` where the view has it, PostgreSQL 14+, so
-- statements run inside functions do not count twice; else `true`) and
-- `{view}`, the schema-qualified view (the schema quoted by the server),
-- whose function of the same name takes showtext.
SELECT s.userid, s.queryid, s.calls, s.total_exec_time, s.rows
FROM {view}(false) AS s
WHERE s.dbid = (SELECT oid FROM pg_catalog.pg_database
                WHERE datname = current_database())
  AND s.queryid IS NOT NULL
  AND {toplevel}
