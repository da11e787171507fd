\set id random(1, 2000000)
DELETE FROM bench_notes WHERE id = :id;
