-- IN list of string literals
\set u1 random(1, 5000)
\set u2 random(1, 5000)
\set u3 random(1, 5000)
\set u4 random(1, 5000)
SELECT id, aid, body FROM bench_notes WHERE author IN ('user_:u1', 'user_:u2', 'user_:u3', 'user_:u4') ORDER BY id DESC LIMIT 20;
