-- pgadvisor check: extensions pgadvisor can use, available and installed.
SELECT name::text, default_version::text, installed_version::text
FROM pg_available_extensions
WHERE name IN ('hypopg', 'pg_stat_statements')
ORDER BY name
