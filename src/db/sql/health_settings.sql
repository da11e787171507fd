-- pgadvisor health: the settings the checks weigh, as text with their
-- unit, so the caller converts them once.
SELECT name::text, setting::text, unit::text
FROM pg_settings
WHERE name IN ('shared_buffers', 'effective_cache_size', 'work_mem',
               'maintenance_work_mem', 'max_connections',
               'superuser_reserved_connections', 'reserved_connections',
               'random_page_cost', 'seq_page_cost', 'effective_io_concurrency',
               'max_wal_size', 'checkpoint_timeout',
               'checkpoint_completion_target', 'autovacuum', 'track_counts',
               'track_io_timing', 'autovacuum_freeze_max_age',
               'autovacuum_multixact_freeze_max_age', 'block_size',
               'idle_in_transaction_session_timeout', 'max_parallel_workers',
               'max_worker_processes', 'huge_pages')
