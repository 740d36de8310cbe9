-- Which of the requested schemas exist (a dropped schema must change the digest).
SELECT nspname AS schema FROM pg_namespace WHERE nspname = ANY(%(schemas)s) ORDER BY 1
