-- assignment of NULL and IS NULL
\set id random(1, 2000000)
UPDATE bench_notes SET body = NULL WHERE id = :id AND created_at IS NOT NULL;
