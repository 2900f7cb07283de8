-- The account history page lists a customer's orders newest first; without this index the
-- query scans every order.
-- migrate:up transaction:false
CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_created_idx
    ON orders (customer_id, created_at DESC);

-- migrate:down transaction:false
DROP INDEX CONCURRENTLY IF EXISTS orders_customer_created_idx;

-- The planner needs fresh statistics to choose the new index.
ANALYZE orders;
