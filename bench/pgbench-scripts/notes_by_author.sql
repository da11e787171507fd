-- string equality + LIKE prefix, ORDER BY / LIMIT
\set uid random(1, 5000)
\set d random(1, 9)
SELECT id, body, created_at FROM bench_notes WHERE author = 'user_:uid' AND body LIKE 'note :d%' ORDER BY created_at DESC LIMIT 10;
