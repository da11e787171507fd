-- pgadvisor health: transaction-ID and multixact age of every database
-- (wraparound is cluster-wide).
SELECT d.datname::text AS database_name,
       age(d.datfrozenxid)::int8 AS xid_age,
       mxid_age(d.datminmxid)::int8 AS mxid_age
FROM pg_database d
WHERE d.datallowconn
ORDER BY 2 DESC
