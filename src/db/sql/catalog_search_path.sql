-- pgadvisor catalog: the schemas unqualified names resolve through.
SELECT current_schemas(false)::text[] AS schemas
