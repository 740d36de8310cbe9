-- Volatility of the functions called in column defaults ('i' < 's' < 'v', so max is the worst
-- over overloads). Built-in functions live in pg_catalog, so it is not filtered out here.
SELECT p.proname AS function_name, max(p.provolatile::text) AS volatility
FROM pg_proc p
WHERE p.proname = ANY(%(names)s::text[])
GROUP BY p.proname
