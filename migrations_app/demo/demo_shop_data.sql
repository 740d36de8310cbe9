-- Demo rows: a few hundred thousand in all, deterministic (setseed).
SELECT setseed(0.42);

INSERT INTO public.categories (name, slug, parent_id)
SELECT 'Category ' || g, 'category-' || g, NULL FROM generate_series(1, 10) g;
INSERT INTO public.categories (name, slug, parent_id)
SELECT 'Subcategory ' || g, 'subcategory-' || g, 1 + (g % 10) FROM generate_series(1, 40) g;

INSERT INTO public.products (category_id, sku, name, price_cents, active)
SELECT 1 + (g % 50), 'SKU-' || lpad(g::text, 6, '0'), 'Product ' || g, 100 + (g * 37) % 20000, g % 17 <> 0
FROM generate_series(1, 2000) g;

INSERT INTO public.customers (email, full_name, country_code, legacy_status, status, created_at)
SELECT 'customer' || g || '@' || (ARRAY['example.com', 'mail.test', 'shop.test'])[1 + g % 3],
       'Customer ' || g,
       (ARRAY['US', 'DE', 'FR', 'GB', 'JP', 'BR'])[1 + g % 6],
       CASE WHEN g % 7 = 0 THEN (ARRAY['gold', 'silver', 'bronze'])[1 + g % 3] END,
       CASE WHEN g % 50 = 0 THEN 'suspended' ELSE 'active' END,
       timestamptz '2024-01-01' + (g || ' minutes')::interval
FROM generate_series(1, 50000) g;

ALTER TABLE public.order_items DISABLE TRIGGER order_items_total;

INSERT INTO public.orders (customer_id, status, total_cents, placed_at, shipped_at)
SELECT 1 + (g * 7919) % 50000,
       (ARRAY['new', 'paid', 'shipped', 'delivered'])[1 + g % 4],
       0,
       timestamptz '2025-01-01' + (g || ' minutes')::interval,
       CASE WHEN g % 4 >= 2 THEN timestamptz '2025-01-02' + (g || ' minutes')::interval END
FROM generate_series(1, 100000) g;

INSERT INTO public.order_items (order_id, line_no, product_id, quantity, unit_cents)
SELECT o.id, l, 1 + ((o.id * 31 + l * 17) % 2000), 1 + (o.id + l) % 4, 100 + ((o.id * l) % 5000)
FROM public.orders o CROSS JOIN generate_series(1, 2) l;

UPDATE public.orders o SET total_cents = s.total
FROM (SELECT order_id, sum(quantity * unit_cents) AS total FROM public.order_items GROUP BY 1) s
WHERE s.order_id = o.id;

ALTER TABLE public.order_items ENABLE TRIGGER order_items_total;

INSERT INTO public.page_views (customer_id, path, viewed_at)
SELECT 1 + (g * 13) % 50000, '/products/' || (1 + g % 2000),
       timestamptz '2026-07-01' + ((g * 3) || ' minutes')::interval
FROM generate_series(1, 60000) g;

INSERT INTO billing.invoices (order_id, customer_id, amount_cents, tax_cents, issued_at, paid_at)
SELECT o.id, o.customer_id, o.total_cents, o.total_cents / 10, o.placed_at + interval '1 hour', NULL
FROM public.orders o WHERE o.status <> 'new';

ALTER TABLE billing.payments DISABLE TRIGGER payments_mark_paid;
INSERT INTO billing.payments (invoice_id, amount_cents, method, received_at)
SELECT i.id, i.total_cents, (ARRAY['card', 'transfer', 'wallet'])[1 + i.id % 3], i.issued_at + interval '1 day'
FROM billing.invoices i WHERE i.id % 5 <> 0;
UPDATE billing.invoices i SET paid_at = p.received_at FROM billing.payments p WHERE p.invoice_id = i.id;
ALTER TABLE billing.payments ENABLE TRIGGER payments_mark_paid;

REFRESH MATERIALIZED VIEW billing.revenue_by_country;
ANALYZE;
