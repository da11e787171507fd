-- The scratch schema of bench-cache, with everything in it.
DROP SCHEMA IF EXISTS {schema} CASCADE
