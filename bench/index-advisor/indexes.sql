-- What the application already has after the load: keys, foreign keys, and a
-- few secondary indexes of the kind real schemas carry -- one useful
-- (orders.created_at), one that looks useful but is not for the queries that
-- run (users.email, while the application searches lower(email)), and one
-- redundant pair (products (category_id) is a prefix of (category_id, price)).
-- Foreign-key columns on the referencing side are deliberately NOT indexed,
-- as PostgreSQL does not do it automatically and many schemas forget it.

ALTER TABLE users       ADD PRIMARY KEY (id);
ALTER TABLE customers   ADD PRIMARY KEY (id);
ALTER TABLE categories  ADD PRIMARY KEY (id);
ALTER TABLE products    ADD PRIMARY KEY (id);
ALTER TABLE orders      ADD PRIMARY KEY (id);
ALTER TABLE order_items ADD PRIMARY KEY (id);
ALTER TABLE events      ADD PRIMARY KEY (id);
ALTER TABLE sessions    ADD PRIMARY KEY (id);

ALTER TABLE products ADD CONSTRAINT products_sku_key UNIQUE (sku);

CREATE INDEX users_email_idx               ON users (email);
CREATE INDEX products_category_id_idx       ON products (category_id);
CREATE INDEX products_category_id_price_idx ON products (category_id, price);
CREATE INDEX orders_created_at_idx          ON orders (created_at);
CREATE INDEX sessions_user_id_idx           ON sessions (user_id);

ALTER TABLE customers   ADD FOREIGN KEY (user_id)     REFERENCES users (id);
ALTER TABLE categories  ADD FOREIGN KEY (parent_id)   REFERENCES categories (id);
ALTER TABLE products    ADD FOREIGN KEY (category_id) REFERENCES categories (id);
ALTER TABLE orders      ADD FOREIGN KEY (customer_id) REFERENCES customers (id);
ALTER TABLE order_items ADD FOREIGN KEY (order_id)    REFERENCES orders (id);
ALTER TABLE order_items ADD FOREIGN KEY (product_id)  REFERENCES products (id);
ALTER TABLE sessions    ADD FOREIGN KEY (user_id)     REFERENCES users (id);
-- (events.user_id has no foreign key: an audit log outlives its users)

-- Identity sequences continue after the generated ids.
SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users));
SELECT setval(pg_get_serial_sequence('customers', 'id'), (SELECT max(id) FROM customers));
SELECT setval(pg_get_serial_sequence('categories', 'id'), (SELECT max(id) FROM categories));
SELECT setval(pg_get_serial_sequence('products', 'id'), (SELECT max(id) FROM products));
SELECT setval(pg_get_serial_sequence('orders', 'id'), (SELECT max(id) FROM orders));
SELECT setval(pg_get_serial_sequence('order_items', 'id'), (SELECT max(id) FROM order_items));
SELECT setval(pg_get_serial_sequence('events', 'id'), (SELECT max(id) FROM events));
-- (sessions.id is a text token with its own default)
