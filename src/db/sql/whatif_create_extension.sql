-- pgadvisor --enable-hypopg: HypoPG adds functions only; it stores nothing.
CREATE EXTENSION IF NOT EXISTS hypopg
