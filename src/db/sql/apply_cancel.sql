-- pgadvisor apply: cancel our own index build after Ctrl-C (the build
-- session is pgadvisor's; the server rolls it back and leaves an invalid
-- index that apply then drops).
SELECT pg_cancel_backend($1)
