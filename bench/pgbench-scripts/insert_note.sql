-- insert with string literals (including an escaped quote) and an interval literal
\set aid random(1, 100000 * :scale)
\set uid random(1, 5000)
\set n random(1, 1000000000)
\set mins random(0, 100000)
INSERT INTO bench_notes (aid, author, body, created_at) VALUES (:aid, 'user_:uid', 'note :n about account :aid, it''s fine', now() - interval ':mins minutes');
