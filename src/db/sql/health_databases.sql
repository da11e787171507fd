-- pgadvisor health: transaction-ID and multixact age of every database
-- (wraparound is cluster-wide), and this database's cache counters.
SELECT d.datname::text AS database_name,
       age(d.datfrozenxid)::int8 AS xid_age,
       mxid_age(d.datminmxid)::int8 AS mxid_age,
       s.blks_hit::int8, s.blks_read::int8
FROM pg_database d
LEFT JOIN pg_stat_database s ON s.datid = d.oid
WHERE d.datallowconn
ORDER BY 2 DESC
