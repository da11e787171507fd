-- pgadvisor what-if sessions: nothing they run can write (plain EXPLAIN and
-- HypoPG's in-memory indexes need no writes), and literals in logged
-- parameter values are read the standard way.
SET default_transaction_read_only = on;
SET standard_conforming_strings = on;
