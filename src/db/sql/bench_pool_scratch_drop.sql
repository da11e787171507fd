-- The scratch schema of the built-in workloads, with everything in it.
DROP SCHEMA IF EXISTS {schema} CASCADE
