#!/usr/bin/env python3
"""The application workload of the index-advisor benchmark.

Usage:
    workload.py prefetch --dsn URL --out FILE
    workload.py run --dsn URL --prefetch FILE [--executions N] [--clients C]
                    [--seed S] [--truth FILE]
    workload.py probe --dsn URL --prefetch FILE [--repeat R]
    workload.py list

`run` is what capture.sh records into workload.log: about 50 statement
templates of a web shop (schema.sql), each with a relative frequency and a
parameter generator whose values are skewed the way the data is (data.sql's
power laws, rare statuses, recent timestamps). Most templates go over the
extended protocol with server-side binding (psycopg sends $n parameters; the
log gets `execute <unnamed>: ...` plus `DETAIL: parameters: ...`); the ones
marked `literal` are sent over the simple protocol with their values inlined
(`statement: ...`), the way ORMs with client-side binding and hand-written
reports do. A few run inside explicit transactions (BEGIN/COMMIT in the log).

Why the frequencies look the way they do: a real application runs its cheap
key lookups and its writes to the hot tables (sessions, events) far more often
than anything else, while a handful of unindexed lookups on the big tables
dominate the total time. The capture must stay within a couple of minutes, so
the expensive templates (sequential scans of 1-2.5 M rows) get tens of calls,
not thousands; `probe` prints the expected time per template to keep that
budget honest after edits.

`prefetch` reads the few things the generators cannot derive from data.sql's
formulas (the e-mail addresses, the current max ids) BEFORE statement logging
is switched on, so none of it pollutes the captured log.

Parameters are deterministic for a given --seed and --clients 1; with two
clients the interleaving of the shared state (new session tokens, order ids,
retention cut-offs) depends on timing, which changes values slightly but not
their distribution.

Timestamps follow a virtual clock: the data ends at 2025-01-01 00:00 UTC and
execution k of the schedule happens at that time + k * 0.5 s, so "the last
hour" means the same thing whenever the capture runs.
"""

import argparse
import datetime as dt
import hashlib
import json
import random
import statistics
import sys
import threading
import time

try:
    import psycopg
    from psycopg.types.json import Jsonb
except ImportError:  # capture.sh installs it; say so instead of a traceback
    sys.exit("workload.py: psycopg is not installed (pip install 'psycopg[binary]')")

UTC = dt.timezone.utc
DATA_END = dt.datetime(2025, 1, 1, tzinfo=UTC)
N_USERS, N_CUSTOMERS, N_PRODUCTS, N_SESSIONS = 250_000, 200_000, 50_000, 150_000

FIRST = ["Anna", "Ben", "Carla", "David", "Emma", "Felix", "Greta", "Hugo", "Ida", "Jonas",
         "Karin", "Leon", "Maria", "Nils", "Olga", "Paul", "Quinn", "Rosa", "Sven", "Tina"]
LAST = ["Smith", "Mueller", "Garcia", "Rossi", "Tanaka", "Kowalski", "Jensen", "Dubois", "Silva", "Novak",
        "Kim", "Nguyen", "Olsen", "Fischer", "Lopez", "Martin", "Weber", "Wagner", "Moreau", "Costa"]
ADJ = ["Basic", "Premium", "Eco", "Pro", "Mini", "Max", "Smart", "Classic", "Ultra", "Travel"]
NOUN = ["Lamp", "Chair", "Kettle", "Backpack", "Headphones", "Blender", "Desk", "Mug", "Jacket", "Charger",
        "Bottle", "Pillow", "Speaker", "Tent", "Watch"]
COUNTRIES = ["US", "DE", "GB", "FR", "NL", "SE", "PL", "ES", "IT", "CA",
             "AU", "JP", "BR", "IN", "MX", "AT", "BE", "DK", "FI", "NO"]
AGENTS = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2)",
          "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X)", "Mozilla/5.0 (Linux; Android 14)",
          "shop-app/4.2 (iOS)", "shop-app/4.2 (Android)"]


# --- the same skewed key mappings as data.sql ------------------------------

def customer_id(r):
    return (int(N_CUSTOMERS * r.random() ** 3) * 7919) % N_CUSTOMERS + 1


def user_id(r):
    return (int(N_USERS * r.random() ** 3) * 104729) % N_USERS + 1


def product_id(r):
    return (int(N_PRODUCTS * r.random() ** 2.5) * 7907) % N_PRODUCTS + 1


def category_id(r):
    return 21 + int(180 * r.random() ** 2)


def country(r):
    return COUNTRIES[int(20 * r.random() ** 2.2)]


def pick(r, weighted):
    """weighted: [(value, weight), ...]"""
    x = r.random() * sum(w for _, w in weighted)
    for v, w in weighted:
        x -= w
        if x < 0:
            return v
    return weighted[-1][0]


class State:
    """What the generators share across clients: ids created during the run,
    moving retention cut-offs. Guarded by one lock (the run is I/O bound)."""

    def __init__(self, pre):
        self.lock = threading.Lock()
        self.emails = pre["emails"]            # index = user id - 1
        self.max_order = pre["max_order_id"]
        self.max_event = pre["max_event_id"]
        self.new_tokens = []                   # sessions created by this run
        self.new_orders = []
        self.event_cutoff = DATA_END - dt.timedelta(days=180) + dt.timedelta(hours=1)
        self.session_cutoff = DATA_END - dt.timedelta(days=40)

    def session_token(self, r):
        # recently created sessions are the busy ones
        with self.lock:
            if self.new_tokens and r.random() < 0.5:
                return self.new_tokens[-1 - int(len(self.new_tokens) * r.random() ** 3)]
        return hashlib.md5(str(r.randint(1, N_SESSIONS)).encode()).hexdigest()

    def order_id(self, r):
        with self.lock:
            if self.new_orders and r.random() < 0.2:
                return r.choice(self.new_orders)
            top = self.max_order
        return top - int(top * r.random() ** 3)   # recent orders are looked at most


class Ctx:
    """Per-execution view: the client's RNG, the shared state, the virtual time."""

    def __init__(self, r, state, seq):
        self.r, self.s = r, state
        self.now = DATA_END + dt.timedelta(seconds=seq * 0.5)

    def ago(self, max_days, power=2.0):
        """A moment in the last max_days, biased towards now."""
        return self.now - dt.timedelta(days=max_days) * self.r.random() ** power


# --- templates ---------------------------------------------------------------
# Each: name, relative weight, protocol ("bind" = server-side $n parameters,
# "literal" = values inlined, simple protocol), SQL with %s placeholders, and
# a generator returning the parameters. Templates with a `run` function
# execute several statements (a checkout transaction) and manage state.

TEMPLATES = []


def template(name, weight, sql, proto="bind"):
    def deco(gen):
        TEMPLATES.append({"name": name, "weight": weight, "sql": sql, "proto": proto, "gen": gen, "run": None})
        return gen
    return deco


def flow(name, weight, description):
    def deco(run):
        TEMPLATES.append({"name": name, "weight": weight, "sql": description, "proto": "bind", "gen": None, "run": run})
        return run
    return deco


# Hot key lookups and updates (served by primary keys already)

@template("session_by_token", 500, "SELECT user_id, expires_at FROM sessions WHERE id = %s")
def _(c):
    return (c.s.session_token(c.r),)


@template("session_touch", 700, "UPDATE sessions SET last_seen_at = %s WHERE id = %s")
def _(c):
    return (c.now, c.s.session_token(c.r))


@template("user_by_id", 300, "SELECT id, email, username, role FROM users WHERE id = %s")
def _(c):
    return (user_id(c.r),)


@template("product_by_id", 350, "SELECT id, sku, name, price, active FROM products WHERE id = %s")
def _(c):
    return (product_id(c.r),)


@template("product_by_sku", 100, "SELECT id, name, price FROM products WHERE sku = %s", proto="literal")
def _(c):
    return ("SKU-%06d" % product_id(c.r),)


@template("order_by_id", 250, "SELECT id, customer_id, status, total, created_at FROM orders WHERE id = %s")
def _(c):
    return (c.s.order_id(c.r),)


# the same statement with its value inlined: one fingerprint with the above
@template("order_by_id_literal", 50, "SELECT id, customer_id, status, total, created_at FROM orders WHERE id = %s",
          proto="literal")
def _(c):
    return (c.s.order_id(c.r),)


@template("order_with_customer", 120,
          "SELECT o.id, o.status, o.total, c.name, c.country FROM orders o "
          "JOIN customers c ON c.id = o.customer_id WHERE o.id = %s")
def _(c):
    return (c.s.order_id(c.r),)


@template("user_login_touch", 150, "UPDATE users SET last_login_at = %s WHERE id = %s")
def _(c):
    return (c.now, user_id(c.r))


@template("order_status_update", 120, "UPDATE orders SET status = %s, updated_at = %s WHERE id = %s")
def _(c):
    return (pick(c.r, [("shipped", 5), ("delivered", 4), ("cancelled", 1)]), c.now, c.s.order_id(c.r))


# Writes to the write-heavy tables

@template("event_insert", 900, "INSERT INTO events (created_at, user_id, payload) VALUES (%s, %s, %s)")
def _(c):
    kind = pick(c.r, [("page_view", 60), ("click", 25), ("add_to_cart", 8), ("login", 4),
                      ("checkout", 2.5), ("error", 0.4), ("refund_requested", 0.1)])
    uid = None if c.r.random() < 0.1 else user_id(c.r)
    payload = {"kind": kind, "path": "/p/%d" % product_id(c.r), "ms": int(5 + 800 * c.r.random() ** 3),
               "ref": c.r.choice(["direct", "search", "email", "ads", "social"])}
    return (c.now, uid, Jsonb(payload))


@flow("session_create", 150,
      "INSERT INTO sessions (user_id, created_at, last_seen_at, expires_at, ip, user_agent) "
      "VALUES (...) RETURNING id")
def _(conn, c):
    cur = conn.execute(
        "INSERT INTO sessions (user_id, created_at, last_seen_at, expires_at, ip, user_agent) "
        "VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
        (user_id(c.r), c.now, c.now, c.now + dt.timedelta(days=14),
         "10.%d.%d.%d" % (c.r.randrange(256), c.r.randrange(256), c.r.randrange(256)),
         AGENTS[int(6 * c.r.random() ** 1.5)]))
    token = cur.fetchone()[0]
    with c.s.lock:
        c.s.new_tokens.append(token)
    return 1


@flow("checkout", 60, "BEGIN; INSERT INTO orders ... RETURNING id; INSERT INTO order_items ... (1-3x); COMMIT")
def _(conn, c):
    n = 1
    with conn.transaction():
        cc = country(c.r)
        cur = conn.execute(
            "INSERT INTO orders (customer_id, status, total, currency, shipping_country, created_at, updated_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (customer_id(c.r), "pending", round(5 + 495 * c.r.random() ** 3, 2),
             {"US": "USD", "GB": "GBP", "JP": "JPY"}.get(cc, "EUR"), cc, c.now, c.now))
        oid = cur.fetchone()[0]
        for _ in range(1 + int(3 * c.r.random() ** 2)):
            conn.execute("INSERT INTO order_items (order_id, product_id, quantity, unit_price) VALUES (%s, %s, %s, %s)",
                         (oid, product_id(c.r), 1 + int(5 * c.r.random() ** 4), round(2 + 198 * c.r.random() ** 2, 2)))
            n += 1
    with c.s.lock:
        c.s.new_orders.append(oid)
        c.s.max_order = max(c.s.max_order, oid)
    return n + 2   # + BEGIN and COMMIT


@template("session_cleanup", 15, "DELETE FROM sessions WHERE expires_at < %s")
def _(c):
    with c.s.lock:
        c.s.session_cutoff += dt.timedelta(hours=12)
        return (c.s.session_cutoff,)


@template("event_retention", 12, "DELETE FROM events WHERE created_at < %s")
def _(c):
    with c.s.lock:
        c.s.event_cutoff += dt.timedelta(minutes=30)
        return (c.s.event_cutoff,)


@template("session_extend", 40, "UPDATE sessions SET expires_at = %s WHERE user_id = %s")
def _(c):
    return (c.now + dt.timedelta(days=30), user_id(c.r))


@template("soft_delete_cancelled", 8,
          "UPDATE orders SET deleted_at = %s WHERE customer_id = %s AND status = 'cancelled' AND deleted_at IS NULL")
def _(c):
    return (c.now, customer_id(c.r))


# Users and customers

@template("user_by_email", 120, "SELECT id, email, role FROM users WHERE lower(email) = lower(%s)")
def _(c):
    if c.r.random() < 0.1:   # typos and unknown addresses at the login form
        return ("no.such.user%d@example.com" % c.r.randrange(10 ** 6),)
    e = c.s.emails[user_id(c.r) - 1]
    return (pick(c.r, [(e, 3), (e.lower(), 5), (e.upper(), 1), (e.title(), 1)]),)


@template("user_by_email_exact", 40, "SELECT id FROM users WHERE email = %s", proto="literal")
def _(c):
    return (c.s.emails[user_id(c.r) - 1],)


@template("customer_by_user", 200, "SELECT id, name, segment, country FROM customers WHERE user_id = %s")
def _(c):
    return (user_id(c.r),)


@template("customer_name_search", 40, "SELECT id, name, country FROM customers WHERE name LIKE %s ORDER BY name LIMIT 20")
def _(c):
    f, l = c.r.choice(FIRST), c.r.choice(LAST)
    return (pick(c.r, [(f + " " + l[:3] + "%", 5), (f + " " + l + "%", 3), (f[:3] + "%", 2)]),)


@template("customers_recent_by_country", 20,
          "SELECT id, name, created_at FROM customers WHERE country = %s AND created_at >= %s "
          "ORDER BY created_at DESC LIMIT 20")
def _(c):
    return (country(c.r), c.ago(365))


@template("vip_customers_top", 4,
          "SELECT c.id, c.name, count(*) AS orders, sum(o.total) AS revenue FROM customers c "
          "JOIN orders o ON o.customer_id = c.id WHERE c.segment = 'vip' AND c.country = %s "
          "GROUP BY c.id, c.name ORDER BY orders DESC LIMIT 20", proto="literal")
def _(c):
    return (country(c.r),)


@template("user_admins", 5, "SELECT id, username, email FROM users WHERE role = 'admin' ORDER BY id")
def _(c):
    return ()


@template("recent_signups", 10, "SELECT id, email, created_at FROM users WHERE created_at >= %s ORDER BY created_at LIMIT 100")
def _(c):
    return (c.ago(30),)


# Orders by customer (orders.customer_id has no index)

@template("customer_orders_page", 80,
          "SELECT id, status, total, created_at FROM orders WHERE customer_id = %s AND deleted_at IS NULL "
          "ORDER BY created_at DESC LIMIT 20")
def _(c):
    return (customer_id(c.r),)


@template("customer_order_count", 35, "SELECT count(*) FROM orders WHERE customer_id = %s AND deleted_at IS NULL")
def _(c):
    return (customer_id(c.r),)


@template("customer_spend_by_status", 25,
          "SELECT status, count(*), sum(total) FROM orders WHERE customer_id = %s GROUP BY status")
def _(c):
    return (customer_id(c.r),)


@template("customer_recent_spend", 30,
          "SELECT sum(total) FROM orders WHERE customer_id = %s AND created_at >= %s AND status <> 'cancelled'")
def _(c):
    return (customer_id(c.r), c.ago(365, 1))


@template("customer_monthly_items", 10,
          "SELECT date_trunc('month', o.created_at) AS month, sum(oi.quantity * oi.unit_price) AS spent "
          "FROM orders o JOIN order_items oi ON oi.order_id = o.id WHERE o.customer_id = %s "
          "GROUP BY 1 ORDER BY 1")
def _(c):
    return (customer_id(c.r),)


# Order items (order_items.order_id / product_id have no index)

@template("order_items_of_order", 60,
          "SELECT oi.product_id, oi.quantity, oi.unit_price, p.name FROM order_items oi "
          "JOIN products p ON p.id = oi.product_id WHERE oi.order_id = %s")
def _(c):
    return (c.s.order_id(c.r),)


@template("order_item_counts_in", 10,
          "SELECT order_id, count(*), sum(quantity) FROM order_items WHERE order_id IN (%s) GROUP BY order_id",
          proto="literal")
def _(c):
    return tuple(c.s.order_id(c.r) for _ in range(c.r.choice([2, 3, 5, 8, 12])))


@template("order_items_any", 6,
          "SELECT order_id, sum(quantity * unit_price) FROM order_items WHERE order_id = ANY(%s) GROUP BY order_id")
def _(c):
    return ([c.s.order_id(c.r) for _ in range(c.r.choice([2, 4, 10]))],)


@template("product_recent_sales", 12,
          "SELECT order_id, quantity FROM order_items WHERE product_id = %s ORDER BY id DESC LIMIT 20")
def _(c):
    return (product_id(c.r),)


@template("product_in_any_order", 10, "SELECT EXISTS (SELECT 1 FROM order_items WHERE product_id = %s)")
def _(c):
    # mostly products nobody ordered (the check before deleting one): worst case
    return (c.r.randint(1, N_PRODUCTS),)


@template("category_top_sellers", 6,
          "SELECT p.id, p.name, sum(oi.quantity) AS sold FROM orders o "
          "JOIN order_items oi ON oi.order_id = o.id JOIN products p ON p.id = oi.product_id "
          "WHERE o.created_at >= %s AND o.created_at < %s AND p.category_id = %s "
          "GROUP BY p.id, p.name ORDER BY sold DESC LIMIT 10")
def _(c):
    days = c.r.choice([1, 7, 7, 30])
    return (c.now - dt.timedelta(days=days), c.now, category_id(c.r))


# Orders by status, time and soft-delete flag

@template("orders_by_status_recent", 40,
          "SELECT id, customer_id, total, created_at FROM orders WHERE status = %s ORDER BY created_at DESC LIMIT 50")
def _(c):
    return (pick(c.r, [("fraud_review", 5), ("pending", 3), ("refunded", 2)]),)


@template("pending_count", 30, "SELECT count(*) FROM orders WHERE status = 'pending' AND created_at >= %s")
def _(c):
    return (c.ago(3, 1),)


@template("stuck_orders", 10,
          "SELECT id, customer_id, updated_at FROM orders WHERE status = %s AND updated_at < %s "
          "ORDER BY updated_at LIMIT 100")
def _(c):
    return (pick(c.r, [("pending", 9), ("fraud_review", 1)]), c.now - dt.timedelta(days=c.r.choice([3, 5, 7])))


@template("orders_status_country_range", 20,
          "SELECT id, total FROM orders WHERE status = %s AND shipping_country = %s "
          "AND created_at >= %s AND created_at < %s")
def _(c):
    start = DATA_END - dt.timedelta(days=700) * c.r.random()
    return (pick(c.r, [("cancelled", 4), ("refunded", 3), ("delivered", 2), ("fraud_review", 1)]),
            country(c.r), start, start + dt.timedelta(days=30))


@template("deleted_orders_recent", 8,
          "SELECT id, customer_id, deleted_at FROM orders WHERE deleted_at IS NOT NULL AND deleted_at >= %s "
          "ORDER BY deleted_at DESC LIMIT 50")
def _(c):
    return (c.ago(30),)


@template("daily_revenue", 15,
          "SELECT date_trunc('day', created_at) AS day, count(*), sum(total) FROM orders "
          "WHERE created_at >= %s AND created_at < %s AND deleted_at IS NULL GROUP BY 1 ORDER BY 1")
def _(c):
    days = c.r.choice([7, 7, 30])
    return (c.now - dt.timedelta(days=days), c.now)


@template("orders_keyset", 80,
          "SELECT id, customer_id, status, total, created_at FROM orders WHERE created_at < %s "
          "ORDER BY created_at DESC LIMIT 50")
def _(c):
    return (c.ago(30, 3),)


@template("country_breakdown", 10,
          "SELECT shipping_country, count(*) FROM orders WHERE created_at >= %s GROUP BY shipping_country ORDER BY 2 DESC")
def _(c):
    return (c.now - dt.timedelta(days=c.r.choice([1, 7, 30])),)


# Products

@template("category_page", 200,
          "SELECT id, name, price FROM products WHERE category_id = %s AND active ORDER BY price LIMIT 24")
def _(c):
    return (category_id(c.r),)


@template("product_name_prefix", 60,
          "SELECT id, name, price FROM products WHERE name LIKE %s ORDER BY name LIMIT 20", proto="literal")
def _(c):
    a, n = c.r.choice(ADJ), c.r.choice(NOUN)
    return (pick(c.r, [(a + " " + n[:2] + "%", 5), (a + " " + n + " 1%", 3), (a[:2] + "%", 1)]),)


@template("products_price_band", 20, "SELECT count(*) FROM products WHERE active AND price BETWEEN %s AND %s")
def _(c):
    lo = c.r.choice([5, 10, 20, 50, 100, 200])
    return (lo, lo * 2)


@template("category_product_counts", 5,
          "SELECT c.name, count(*) FROM products p JOIN categories c ON c.id = p.category_id "
          "WHERE p.active GROUP BY c.name ORDER BY 2 DESC LIMIT 20")
def _(c):
    return ()


# Events (jsonb payload; no index but the primary key)

@template("events_by_kind_recent", 40,
          "SELECT id, created_at, user_id, payload FROM events WHERE payload->>'kind' = %s AND created_at >= %s "
          "ORDER BY created_at DESC LIMIT 100")
def _(c):
    return (pick(c.r, [("error", 7), ("refund_requested", 3), ("login", 4), ("checkout", 4), ("page_view", 2)]),
            c.ago(7))


@template("error_count", 20, "SELECT count(*) FROM events WHERE payload->>'kind' = 'error' AND created_at >= %s")
def _(c):
    return (c.ago(2, 1),)


@template("user_event_kinds", 30, "SELECT payload->>'kind' AS kind, count(*) FROM events WHERE user_id = %s GROUP BY 1")
def _(c):
    return (user_id(c.r),)


@template("user_activity_feed", 50,
          "SELECT id, created_at, payload FROM events WHERE user_id = %s AND id < %s ORDER BY id DESC LIMIT 50")
def _(c):
    with c.s.lock:
        top = c.s.max_event + 10 ** 6
    return (user_id(c.r), top if c.r.random() < 0.7 else int(c.s.max_event * (1 - 0.3 * c.r.random())))


@template("events_window_count", 10, "SELECT count(*) FROM events WHERE created_at >= %s AND created_at < %s")
def _(c):
    start = c.ago(90, 1)
    return (start, start + dt.timedelta(hours=c.r.choice([1, 6, 24])))


# Sessions

@template("user_sessions", 80,
          "SELECT id, last_seen_at, user_agent FROM sessions WHERE user_id = %s ORDER BY last_seen_at DESC LIMIT 5")
def _(c):
    return (user_id(c.r),)


@template("active_sessions_count", 10, "SELECT count(*) FROM sessions WHERE last_seen_at >= %s")
def _(c):
    return (c.now - dt.timedelta(minutes=c.r.choice([5, 15, 60])),)


# --- execution ----------------------------------------------------------------

def render_sql(t, params):
    """IN (%s) takes as many placeholders as values."""
    sql = t["sql"]
    if "IN (%s)" in sql:
        sql = sql.replace("IN (%s)", "IN (" + ", ".join(["%s"] * len(params)) + ")")
    return sql


def execute(conn, t, c):
    """Run one template; returns the number of statements it sent."""
    if t["run"]:
        return t["run"](conn, c)
    params = t["gen"](c)
    sql = render_sql(t, params)
    if t["proto"] == "literal":
        cur = psycopg.ClientCursor(conn)   # values inlined; simple protocol
        cur.execute(sql, params or None)
    elif params:
        cur = conn.cursor()
        cur.execute(sql, params)
    else:
        # psycopg uses the simple protocol when there are no parameters
        cur = conn.cursor()
        cur.execute(sql)
    if cur.description is not None:
        cur.fetchall()
    return 1


def schedule(n, seed):
    """Exactly round(n * share) executions of each template (at least 3, so
    every template is in the log with samples), in a seeded random order."""
    total = sum(t["weight"] for t in TEMPLATES)
    plan = []
    for i, t in enumerate(TEMPLATES):
        plan += [i] * max(3, round(n * t["weight"] / total))
    random.Random(seed).shuffle(plan)
    return plan


def connect(dsn):
    # prepare_threshold=None: never switch to named prepared statements, so
    # every bound execution is logged as `execute <unnamed>` with its values
    return psycopg.connect(dsn, autocommit=True, prepare_threshold=None, application_name="shop-app")


def cmd_prefetch(a):
    with psycopg.connect(a.dsn, autocommit=True) as conn:
        rows = conn.execute("SELECT id, email FROM users ORDER BY id").fetchall()
        if len(rows) != N_USERS or rows[-1][0] != N_USERS:
            sys.exit("workload.py: users table is not as data.sql makes it (run load.sh --force)")
        pre = {
            "emails": [e for _, e in rows],
            "max_order_id": conn.execute("SELECT max(id) FROM orders").fetchone()[0],
            "max_event_id": conn.execute("SELECT max(id) FROM events").fetchone()[0],
        }
    with open(a.out, "w") as f:
        json.dump(pre, f)


def cmd_run(a):
    pre = json.load(open(a.prefetch))
    state = State(pre)
    plan = schedule(a.executions, a.seed)
    stats = [{"calls": 0, "statements": 0, "errors": 0, "ms": 0.0} for _ in TEMPLATES]
    errors = []
    lock = threading.Lock()
    progress = [0]

    def worker(k):
        r = random.Random(a.seed * 1000 + k)
        with connect(a.dsn) as conn:
            for seq in range(k, len(plan), a.clients):
                t = TEMPLATES[plan[seq]]
                c = Ctx(r, state, seq)
                t0 = time.perf_counter()
                try:
                    n = execute(conn, t, c)
                except psycopg.Error as e:
                    n = 0
                    with lock:
                        errors.append("%s: %s" % (t["name"], str(e).strip().splitlines()[0]))
                        stats[plan[seq]]["errors"] += 1
                ms = (time.perf_counter() - t0) * 1000
                with lock:
                    s = stats[plan[seq]]
                    s["calls"] += 1
                    s["statements"] += n
                    s["ms"] += ms
                    progress[0] += 1

    t0 = time.time()
    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(a.clients)]
    for th in threads:
        th.start()
    while any(th.is_alive() for th in threads):
        time.sleep(15)
        if sys.stderr.isatty() or a.progress:
            print("  %d / %d executions, %.0f s" % (progress[0], len(plan), time.time() - t0), file=sys.stderr)
    elapsed = time.time() - t0

    by_name = []
    for t, s in zip(TEMPLATES, stats):
        by_name.append({"name": t["name"], "protocol": t["proto"], "sql": t["sql"], **s,
                        "ms": round(s["ms"], 3)})
    truth = {"executions": len(plan), "statements": sum(s["statements"] for s in stats),
             "clients": a.clients, "seed": a.seed, "elapsed_s": round(elapsed, 1),
             "errors": len(errors), "templates": by_name}
    if a.truth:
        with open(a.truth, "w") as f:
            json.dump(truth, f, indent=1)
    print("workload: %d executions (%d statements) of %d templates with %d clients in %.1f s"
          % (len(plan), truth["statements"], len(TEMPLATES), a.clients, elapsed), file=sys.stderr)
    if errors:
        for e in errors[:10]:
            print("  error: " + e, file=sys.stderr)
        sys.exit("workload.py: %d statements failed" % len(errors))


def cmd_probe(a):
    """Time every template a few times (logging is off) and print what the
    schedule of --executions would cost, heaviest first."""
    pre = json.load(open(a.prefetch))
    state = State(pre)
    r = random.Random(a.seed)
    plan = schedule(a.executions, a.seed)
    counts = {i: plan.count(i) for i in range(len(TEMPLATES))}
    rows = []
    with connect(a.dsn) as conn:
        for i, t in enumerate(TEMPLATES):
            times = []
            for k in range(a.repeat):
                c = Ctx(r, state, k)
                if t["run"] or t["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
                    # do not change the data while probing
                    conn.execute("BEGIN")
                    t0 = time.perf_counter()
                    try:
                        if t["run"]:
                            # flows open their own transaction: run them as a savepoint
                            t["run"](conn, c)
                        else:
                            execute(conn, t, c)
                    finally:
                        ms = (time.perf_counter() - t0) * 1000
                        conn.execute("ROLLBACK")
                else:
                    t0 = time.perf_counter()
                    execute(conn, t, c)
                    ms = (time.perf_counter() - t0) * 1000
                times.append(ms)
            med = statistics.median(times)
            rows.append((counts[i] * med / 1000, t["name"], counts[i], med))
    rows.sort(reverse=True)
    print("%-30s %6s %10s %9s" % ("template", "calls", "median ms", "est. s"))
    for est, name, calls, med in rows:
        print("%-30s %6d %10.2f %9.1f" % (name, calls, med, est))
    print("total: %.1f s of statement time for %d executions (divide by --clients for wall time)"
          % (sum(x[0] for x in rows), len(plan)))


def cmd_list(a):
    for t in TEMPLATES:
        print("%-28s %5d %-7s %s" % (t["name"], t["weight"], t["proto"], t["sql"]))
    print("%d templates" % len(TEMPLATES))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prefetch")
    p.add_argument("--dsn", required=True)
    p.add_argument("--out", required=True)
    for name in ("run", "probe"):
        p = sub.add_parser(name)
        p.add_argument("--dsn", required=True)
        p.add_argument("--prefetch", required=True)
        p.add_argument("--executions", type=int, default=6000)
        p.add_argument("--seed", type=int, default=20250101)
        if name == "run":
            p.add_argument("--clients", type=int, default=2)
            p.add_argument("--truth", help="write what was sent, per template, as JSON")
            p.add_argument("--progress", action="store_true", help="progress lines even without a terminal")
        else:
            p.add_argument("--repeat", type=int, default=3)
    sub.add_parser("list")
    a = ap.parse_args()
    {"prefetch": cmd_prefetch, "run": cmd_run, "probe": cmd_probe, "list": cmd_list}[a.cmd](a)


if __name__ == "__main__":
    main()
