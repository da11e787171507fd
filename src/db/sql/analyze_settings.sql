-- pgadvisor analyze: the settings that turn plan findings into numbers
-- (work_mem needed by a spilling sort, shared buffers read share).
SELECT max(CASE WHEN name = 'work_mem' THEN (setting::float8 * CASE unit WHEN 'kB' THEN 1024 WHEN '8kB' THEN 8192 WHEN 'MB' THEN 1048576 ELSE 1 END)::int8 END) AS work_mem_bytes,
       max(CASE WHEN name = 'shared_buffers' THEN (setting::float8 * CASE unit WHEN 'kB' THEN 1024 WHEN '8kB' THEN 8192 WHEN 'MB' THEN 1048576 ELSE 1 END)::int8 END) AS shared_buffers_bytes,
       max(CASE WHEN name = 'hash_mem_multiplier' THEN setting::float8 END) AS hash_mem_multiplier
FROM pg_settings
WHERE name IN ('work_mem', 'shared_buffers', 'hash_mem_multiplier')
