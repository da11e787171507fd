-- Transactions committed and rolled back in this database so far (the
-- step's delta is the server's view of its throughput).
SELECT xact_commit, xact_rollback
  FROM pg_stat_database
 WHERE datname = current_database()
