-- A small "production" for staging tests: a self reference, a two-table FK cycle, a
-- partitioned table referenced by a FK, a generated column, an identity column, a view, a
-- materialized view, a trigger with its function, and a row-level security policy.
SELECT setseed(0.42);
CREATE SCHEMA shop;

CREATE TABLE shop.customers (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email text NOT NULL UNIQUE,
    full_name text NOT NULL,
    referred_by bigint REFERENCES shop.customers (id),
    name_upper text GENERATED ALWAYS AS (upper(full_name)) STORED
);
INSERT INTO shop.customers (id, email, full_name, referred_by) OVERRIDING SYSTEM VALUE
SELECT g, 'person' || g || '@corp.example', 'Person ' || g,
       CASE WHEN g = 1 OR g % 4 = 0 THEN NULL ELSE (g * 7919) % (g - 1) + 1 END
FROM generate_series(1, 2000) g;
SELECT setval(pg_get_serial_sequence('shop.customers', 'id'), 2000);

CREATE TABLE shop.departments (id int PRIMARY KEY, name text NOT NULL, manager_id int);
CREATE TABLE shop.employees (
    id int PRIMARY KEY,
    department_id int NOT NULL REFERENCES shop.departments (id),
    name text NOT NULL
);
INSERT INTO shop.departments SELECT g, 'Dept ' || g, NULL FROM generate_series(1, 50) g;
INSERT INTO shop.employees SELECT g, g % 50 + 1, 'Employee ' || g FROM generate_series(1, 1000) g;
UPDATE shop.departments SET manager_id = id * 20 - 1;
ALTER TABLE shop.departments ADD CONSTRAINT departments_manager_fk
    FOREIGN KEY (manager_id) REFERENCES shop.employees (id) DEFERRABLE INITIALLY DEFERRED;

CREATE TABLE shop.products (sku text PRIMARY KEY, price numeric(10, 2) NOT NULL CHECK (price >= 0));
INSERT INTO shop.products SELECT 'SKU-' || g, g * 1.5 FROM generate_series(1, 200) g;

CREATE TABLE shop.orders (
    id bigserial,
    customer_id bigint NOT NULL REFERENCES shop.customers (id),
    placed_on date NOT NULL,
    total numeric(12, 2),
    PRIMARY KEY (id, placed_on)
) PARTITION BY RANGE (placed_on);
CREATE TABLE shop.orders_2023 PARTITION OF shop.orders FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
CREATE TABLE shop.orders_2024 PARTITION OF shop.orders FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
INSERT INTO shop.orders (customer_id, placed_on, total)
SELECT (g * 31) % 2000 + 1, date '2023-01-01' + (g % 700), (g % 97) * 3.25 FROM generate_series(1, 3000) g;

CREATE TABLE shop.order_items (
    order_id bigint NOT NULL,
    placed_on date NOT NULL,
    sku text NOT NULL REFERENCES shop.products (sku),
    qty int NOT NULL,
    FOREIGN KEY (order_id, placed_on) REFERENCES shop.orders (id, placed_on)
);
INSERT INTO shop.order_items
SELECT o.id, o.placed_on, 'SKU-' || ((o.id * 13 + k) % 200 + 1), k
FROM shop.orders o CROSS JOIN generate_series(1, 2) k
WHERE o.id <= 2000;
CREATE INDEX order_items_sku_idx ON shop.order_items (sku);

CREATE VIEW shop.customer_orders AS
SELECT c.id, c.email, count(o.id) AS orders
FROM shop.customers c LEFT JOIN shop.orders o ON o.customer_id = c.id
GROUP BY c.id, c.email;
CREATE MATERIALIZED VIEW shop.daily_totals AS
SELECT placed_on, sum(total) AS total FROM shop.orders GROUP BY placed_on;

CREATE FUNCTION shop.default_total() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.total := coalesce(NEW.total, 0);
    RETURN NEW;
END $$;
CREATE TRIGGER orders_default_total BEFORE INSERT ON shop.orders
    FOR EACH ROW EXECUTE FUNCTION shop.default_total();

ALTER TABLE shop.customers ENABLE ROW LEVEL SECURITY;
CREATE POLICY customers_visible ON shop.customers USING (true);
ANALYZE;
