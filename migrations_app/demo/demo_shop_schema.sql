-- demo_shop: a small online shop in two schemas, built to exercise every analyzer.
-- Loaded by `python manage.py seed_demo` (schema first, then demo_shop_data.sql).

CREATE SCHEMA IF NOT EXISTS billing;

CREATE TABLE public.categories (
    id          serial PRIMARY KEY,
    parent_id   integer REFERENCES public.categories (id) ON DELETE SET NULL,
    name        text NOT NULL UNIQUE,
    slug        text NOT NULL
);

CREATE TABLE public.customers (
    id              bigserial PRIMARY KEY,
    email           text NOT NULL,
    full_name       text NOT NULL,
    country_code    char(2) NOT NULL DEFAULT 'US',
    legacy_status   varchar(20),
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended', 'closed')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    email_domain    text GENERATED ALWAYS AS (split_part(email, '@', 2)) STORED
);
CREATE UNIQUE INDEX customers_email_key ON public.customers (lower(email));
CREATE INDEX customers_legacy_status_idx ON public.customers (legacy_status) WHERE legacy_status IS NOT NULL;
CREATE INDEX customers_country_idx ON public.customers (country_code);

CREATE TABLE public.products (
    id           serial PRIMARY KEY,
    category_id  integer NOT NULL REFERENCES public.categories (id) ON DELETE RESTRICT,
    sku          text NOT NULL UNIQUE,
    name         text NOT NULL,
    price_cents  integer NOT NULL CHECK (price_cents >= 0),
    active       boolean NOT NULL DEFAULT true
);
CREATE INDEX products_category_idx ON public.products (category_id);

CREATE TABLE public.orders (
    id           bigserial PRIMARY KEY,
    customer_id  bigint NOT NULL REFERENCES public.customers (id) ON DELETE CASCADE,
    status       text NOT NULL DEFAULT 'new',
    total_cents  bigint NOT NULL DEFAULT 0,
    placed_at    timestamptz NOT NULL DEFAULT now(),
    shipped_at   timestamptz
);
CREATE INDEX orders_customer_idx ON public.orders (customer_id);
CREATE INDEX orders_placed_at_idx ON public.orders (placed_at);

CREATE TABLE public.order_items (
    order_id     bigint NOT NULL REFERENCES public.orders (id) ON DELETE CASCADE,
    line_no      integer NOT NULL,
    product_id   integer NOT NULL REFERENCES public.products (id) ON DELETE NO ACTION,
    quantity     integer NOT NULL CHECK (quantity > 0),
    unit_cents   integer NOT NULL,
    PRIMARY KEY (order_id, line_no)
);
CREATE INDEX order_items_product_idx ON public.order_items (product_id);

-- A partitioned table: page views by month.
CREATE TABLE public.page_views (
    id           bigint GENERATED ALWAYS AS IDENTITY,
    customer_id  bigint REFERENCES public.customers (id) ON DELETE SET NULL,
    path         text NOT NULL,
    viewed_at    timestamptz NOT NULL,
    PRIMARY KEY (id, viewed_at)
) PARTITION BY RANGE (viewed_at);
CREATE TABLE public.page_views_2026_q3 PARTITION OF public.page_views
    FOR VALUES FROM ('2026-07-01') TO ('2026-10-01');
CREATE TABLE public.page_views_2026_q4 PARTITION OF public.page_views
    FOR VALUES FROM ('2026-10-01') TO ('2027-01-01');

-- Billing lives in its own schema and points back at public.
CREATE TABLE billing.invoices (
    id            bigserial PRIMARY KEY,
    order_id      bigint NOT NULL UNIQUE REFERENCES public.orders (id) ON DELETE RESTRICT ON UPDATE CASCADE,
    customer_id   bigint NOT NULL REFERENCES public.customers (id) ON DELETE NO ACTION,
    amount_cents  bigint NOT NULL,
    tax_cents     bigint NOT NULL DEFAULT 0,
    total_cents   bigint GENERATED ALWAYS AS (amount_cents + tax_cents) STORED,
    issued_at     timestamptz NOT NULL DEFAULT now(),
    paid_at       timestamptz,
    owner_role    name NOT NULL DEFAULT current_user
);
CREATE INDEX invoices_customer_idx ON billing.invoices (customer_id);
CREATE INDEX invoices_unpaid_idx ON billing.invoices (issued_at) WHERE paid_at IS NULL;

CREATE TABLE billing.payments (
    id            bigserial PRIMARY KEY,
    invoice_id    bigint NOT NULL REFERENCES billing.invoices (id) ON DELETE CASCADE,
    amount_cents  bigint NOT NULL,
    method        text NOT NULL,
    received_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_invoice_idx ON billing.payments (invoice_id);

-- Row level security: a role sees only the invoices it owns.
ALTER TABLE billing.invoices ENABLE ROW LEVEL SECURITY;
CREATE POLICY invoices_owner ON billing.invoices
    USING (owner_role = current_user);

-- Views, a view on a view, a materialized view.
CREATE VIEW public.active_customers AS
    SELECT id, email, full_name, country_code, legacy_status
    FROM public.customers
    WHERE status = 'active';

CREATE VIEW public.legacy_customers AS
    SELECT id, email, legacy_status
    FROM public.active_customers
    WHERE legacy_status IS NOT NULL;

CREATE VIEW public.order_summaries AS
    SELECT o.id, o.customer_id, c.email, o.status, o.total_cents, o.placed_at
    FROM public.orders o JOIN public.customers c ON c.id = o.customer_id;

CREATE VIEW billing.open_invoices AS
    SELECT i.id, i.order_id, i.total_cents, c.email, c.legacy_status
    FROM billing.invoices i JOIN public.customers c ON c.id = i.customer_id
    WHERE i.paid_at IS NULL;

CREATE MATERIALIZED VIEW billing.revenue_by_country AS
    SELECT c.country_code, date_trunc('month', i.issued_at) AS month, sum(i.total_cents) AS revenue_cents
    FROM billing.invoices i JOIN public.customers c ON c.id = i.customer_id
    GROUP BY 1, 2;
CREATE INDEX revenue_by_country_idx ON billing.revenue_by_country (country_code, month);

-- Triggers calling PL/pgSQL functions that use columns by name.
CREATE FUNCTION public.touch_customer() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    IF NEW.legacy_status IS DISTINCT FROM OLD.legacy_status THEN
        RAISE NOTICE 'legacy status of customer % changed', NEW.id;
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER customers_touch
    BEFORE UPDATE OF email, full_name, legacy_status ON public.customers
    FOR EACH ROW EXECUTE FUNCTION public.touch_customer();

CREATE FUNCTION public.recalculate_order_total() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE public.orders
       SET total_cents = (SELECT coalesce(sum(quantity * unit_cents), 0)
                            FROM public.order_items WHERE order_id = NEW.order_id)
     WHERE id = NEW.order_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER order_items_total
    AFTER INSERT OR UPDATE OF quantity, unit_cents ON public.order_items
    FOR EACH ROW EXECUTE FUNCTION public.recalculate_order_total();

CREATE FUNCTION billing.mark_paid() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE billing.invoices SET paid_at = NEW.received_at
     WHERE id = NEW.invoice_id AND paid_at IS NULL;
    RETURN NEW;
END;
$$;
CREATE TRIGGER payments_mark_paid
    AFTER INSERT ON billing.payments
    FOR EACH ROW WHEN (NEW.amount_cents > 0)
    EXECUTE FUNCTION billing.mark_paid();

-- A plain SQL function reading a column, and one that only mentions a similar name.
CREATE FUNCTION public.customers_with_status(p_status text) RETURNS SETOF public.customers
LANGUAGE sql STABLE AS $$
    SELECT * FROM public.customers WHERE legacy_status = p_status
$$;

CREATE FUNCTION public.count_active_customers() RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT count(*) FROM public.customers WHERE status = 'active'
$$;
