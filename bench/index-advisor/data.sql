-- Deterministic data for the index-advisor benchmark (run by load.sh right
-- after schema.sql, in ONE psql session: setseed() below fixes every
-- random() that follows, so two loads give the same rows; only ANALYZE's
-- sample, and therefore the planner's statistics, differ slightly).
--
-- The data ends at 2025-01-01 00:00 UTC ("now" for the workload driver).
-- Skew is what makes index choice interesting, so most keys follow a power
-- law: floor(N * random()^k) puts a few keys on many rows. The result is
-- scattered over the key range by a multiplication modulo N with a prime
-- coprime to N (a bijection), so the heavy keys are not simply ids 1, 2, 3;
-- bench/index-advisor/workload.py uses the same mappings to pick parameter
-- values with the same skew:
--   customer: ((floor(200000 * r^3) * 7919) % 200000) + 1
--   user:     ((floor(250000 * r^3) * 104729) % 250000) + 1
--   product:  ((floor(50000 * r^2.5) * 7907) % 50000) + 1
--
-- Volatile random() in a subquery's target list keeps the subquery from being
-- flattened, so each row draws its own values once and can reuse them.

SELECT setseed(0.20250101);

-- 250,000 users; e-mail addresses in the case the user typed them
INSERT INTO users (id, email, username, role, created_at, last_login_at)
SELECT i,
       CASE WHEN r_case < 0.55 THEN e WHEN r_case < 0.92 THEN initcap(e) ELSE upper(e) END,
       f || '_' || l || i,
       CASE WHEN r_role < 0.0002 THEN 'admin' WHEN r_role < 0.005 THEN 'support' ELSE 'member' END,
       created_at,
       CASE WHEN r_login < 0.9
            THEN created_at + power(r_login / 0.9, 0.3) * (timestamptz '2025-01-01 00:00:00+00' - created_at) END
FROM (
    SELECT i, f, l, r_case, r_role, r_login, created_at,
           f || '.' || l || i || '@' || d AS e
    FROM (
        SELECT i,
               (ARRAY['anna','ben','carla','david','emma','felix','greta','hugo','ida','jonas',
                      'karin','leon','maria','nils','olga','paul','quinn','rosa','sven','tina',
                      'umar','vera','wei','xenia','yusuf','zoe','aiko','bruno','chen','dara'])[1 + floor(random() * 30)::int] AS f,
               (ARRAY['smith','mueller','garcia','rossi','tanaka','kowalski','jensen','dubois','silva','novak',
                      'kim','nguyen','olsen','fischer','lopez','martin','weber','wagner','moreau','costa'])[1 + floor(random() * 20)::int] AS l,
               (ARRAY['example.com','mail.test','shop.example','corp.example','inbox.test'])[1 + floor(power(random(), 2) * 5)::int] AS d,
               random() AS r_case, random() AS r_role, random() AS r_login,
               timestamptz '2021-01-01 00:00:00+00' + (i - 1) * (interval '1461 days' / 250000) AS created_at
        FROM generate_series(1, 250000) AS i
    ) s
) t;

-- 200,000 customers, each tied to a distinct user (scattered by the bijection)
INSERT INTO customers (id, user_id, name, country, segment, created_at)
SELECT i,
       ((i::bigint * 104729) % 250000) + 1,
       (ARRAY['Anna','Ben','Carla','David','Emma','Felix','Greta','Hugo','Ida','Jonas',
              'Karin','Leon','Maria','Nils','Olga','Paul','Quinn','Rosa','Sven','Tina'])[1 + floor(random() * 20)::int]
         || ' ' ||
       (ARRAY['Smith','Mueller','Garcia','Rossi','Tanaka','Kowalski','Jensen','Dubois','Silva','Novak',
              'Kim','Nguyen','Olsen','Fischer','Lopez','Martin','Weber','Wagner','Moreau','Costa'])[1 + floor(random() * 20)::int],
       (ARRAY['US','DE','GB','FR','NL','SE','PL','ES','IT','CA','AU','JP','BR','IN','MX','AT','BE','DK','FI','NO'])[1 + floor(20 * power(random(), 2.2))::int],
       CASE WHEN r_seg < 0.01 THEN 'vip' WHEN r_seg < 0.15 THEN 'business' ELSE 'consumer' END,
       timestamptz '2021-06-01 00:00:00+00' + (i - 1) * (interval '1310 days' / 200000)
FROM (SELECT i, random() AS r_seg FROM generate_series(1, 200000) AS i) s;

-- 200 categories: 20 roots, 180 leaves
INSERT INTO categories (id, parent_id, name)
SELECT i, CASE WHEN i > 20 THEN 1 + (i % 20) END, 'category ' || i
FROM generate_series(1, 200) AS i;

-- 50,000 products, mostly in a few popular leaf categories
INSERT INTO products (id, sku, name, category_id, price, active, created_at)
SELECT i,
       'SKU-' || lpad(i::text, 6, '0'),
       (ARRAY['Basic','Premium','Eco','Pro','Mini','Max','Smart','Classic','Ultra','Travel'])[1 + floor(random() * 10)::int]
         || ' ' ||
       (ARRAY['Lamp','Chair','Kettle','Backpack','Headphones','Blender','Desk','Mug','Jacket','Charger',
              'Bottle','Pillow','Speaker','Tent','Watch'])[1 + floor(random() * 15)::int]
         || ' ' || i,
       21 + floor(180 * power(random(), 2))::int,
       round((2 + 498 * power(random(), 3))::numeric, 2),
       random() < 0.92,
       timestamptz '2020-01-01 00:00:00+00' + (i - 1) * (interval '1800 days' / 50000)
FROM generate_series(1, 50000) AS i;

-- 1,200,000 orders over 2023-2024 (ids follow time, as with a sequence).
-- Status depends on age: recent orders are pending/shipped, old ones
-- delivered/cancelled/refunded; 'fraud_review' is rare (0.1 %) at any age and
-- a few old orders are stuck in 'pending'. ~2 % are soft-deleted.
INSERT INTO orders (id, customer_id, status, total, currency, shipping_country, created_at, updated_at, deleted_at)
SELECT i,
       ((floor(200000 * power(r_cust, 3))::bigint * 7919) % 200000) + 1,
       status,
       round((5 + 495 * power(r_total, 3))::numeric, 2),
       CASE country WHEN 'US' THEN 'USD' WHEN 'GB' THEN 'GBP' WHEN 'JP' THEN 'JPY' WHEN 'CA' THEN 'CAD'
                    WHEN 'AU' THEN 'AUD' WHEN 'SE' THEN 'SEK' WHEN 'PL' THEN 'PLN' WHEN 'BR' THEN 'BRL'
                    WHEN 'IN' THEN 'INR' WHEN 'MX' THEN 'MXN' ELSE 'EUR' END,
       country,
       created_at,
       CASE WHEN status IN ('pending', 'fraud_review') THEN created_at
            ELSE least(created_at + r_upd * interval '6 days', timestamptz '2025-01-01 00:00:00+00') END,
       CASE WHEN r_del < 0.02
            THEN least(created_at + (r_del * 50) * interval '30 days', timestamptz '2025-01-01 00:00:00+00') END
FROM (
    SELECT i, r_cust, r_total, r_upd, r_del, country, created_at,
           CASE
               WHEN r_status < 0.001 THEN 'fraud_review'
               WHEN r_status < 0.0015 THEN 'pending'
               WHEN created_at > timestamptz '2025-01-01 00:00:00+00' - interval '2 days'
                   THEN CASE WHEN r_status < 0.7 THEN 'pending' ELSE 'shipped' END
               WHEN created_at > timestamptz '2025-01-01 00:00:00+00' - interval '10 days'
                   THEN CASE WHEN r_status < 0.65 THEN 'shipped' WHEN r_status < 0.95 THEN 'delivered' ELSE 'cancelled' END
               ELSE CASE WHEN r_status < 0.90 THEN 'delivered' WHEN r_status < 0.96 THEN 'cancelled' ELSE 'refunded' END
           END AS status
    FROM (
        SELECT i, random() AS r_cust, random() AS r_status, random() AS r_total, random() AS r_upd, random() AS r_del,
               (ARRAY['US','DE','GB','FR','NL','SE','PL','ES','IT','CA','AU','JP','BR','IN','MX','AT','BE','DK','FI','NO'])[1 + floor(20 * power(random(), 2.2))::int] AS country,
               timestamptz '2023-01-01 00:00:00+00' + (i - 1) * (interval '730 days' / 1200000) - random() * interval '20 minutes' AS created_at
        FROM generate_series(1, 1200000) AS i
    ) s
) t;

-- 2,500,000 order items, 2-3 per order, stored next to their order (they
-- are inserted with it); products follow a power law.
INSERT INTO order_items (id, order_id, product_id, quantity, unit_price)
SELECT i,
       ((i - 1) * 12) / 25 + 1,
       ((floor(50000 * power(random(), 2.5))::bigint * 7907) % 50000) + 1,
       1 + floor(power(random(), 4) * 5)::int,
       round((2 + 198 * power(random(), 2))::numeric, 2)
FROM generate_series(1, 2500000) AS i;

-- 800,000 audit events over the last 180 days; 10 % anonymous; the kind is
-- heavily skewed ('error' 0.4 %, 'refund_requested' 0.1 %).
INSERT INTO events (id, created_at, user_id, payload)
SELECT i, created_at,
       CASE WHEN r_anon >= 0.1 THEN ((floor(250000 * power(r_user, 3))::bigint * 104729) % 250000) + 1 END,
       jsonb_build_object(
           'kind', CASE WHEN r_kind < 0.60 THEN 'page_view' WHEN r_kind < 0.85 THEN 'click'
                        WHEN r_kind < 0.93 THEN 'add_to_cart' WHEN r_kind < 0.97 THEN 'login'
                        WHEN r_kind < 0.995 THEN 'checkout' WHEN r_kind < 0.999 THEN 'error'
                        ELSE 'refund_requested' END,
           'path', '/p/' || (1 + floor(50000 * power(r_path, 2.5))::int),
           'ms', floor(5 + 800 * power(r_ms, 3))::int,
           'ref', (ARRAY['direct','search','email','ads','social'])[1 + floor(power(r_ms, 0.5) * 5)::int])
FROM (
    SELECT i, random() AS r_anon, random() AS r_user, random() AS r_kind, random() AS r_path, random() AS r_ms,
           timestamptz '2025-01-01 00:00:00+00' - interval '180 days'
             + (i - 1) * (interval '180 days' / 800000) + random() * interval '10 seconds' AS created_at
    FROM generate_series(1, 800000) AS i
) s;

-- 150,000 sessions from the last 60 days; ~ a third already expired
INSERT INTO sessions (id, user_id, created_at, last_seen_at, expires_at, ip, user_agent)
SELECT md5(i::text), user_id, created_at, last_seen_at, last_seen_at + interval '14 days',
       ('10.' || (i / 65536) % 256 || '.' || (i / 256) % 256 || '.' || i % 256)::inet,
       (ARRAY['Mozilla/5.0 (Windows NT 10.0; Win64; x64)', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2)',
              'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X)', 'Mozilla/5.0 (Linux; Android 14)',
              'shop-app/4.2 (iOS)', 'shop-app/4.2 (Android)'])[1 + floor(power(r_ua, 1.5) * 6)::int]
FROM (
    SELECT i, user_id, r_ua, created_at,
           created_at + r_seen * (timestamptz '2025-01-01 00:00:00+00' - created_at) AS last_seen_at
    FROM (
        SELECT i, random() AS r_seen, random() AS r_ua,
               ((floor(250000 * power(random(), 3))::bigint * 104729) % 250000) + 1 AS user_id,
               timestamptz '2025-01-01 00:00:00+00' - random() * interval '60 days' AS created_at
        FROM generate_series(1, 150000) AS i
    ) s
) t;
