-- Reporting schema: views over the operational tables for dashboards.
CREATE SCHEMA IF NOT EXISTS reporting;
REVOKE ALL ON SCHEMA reporting FROM PUBLIC;

CREATE OR REPLACE VIEW reporting.daily_orders AS
    SELECT date_trunc('day', created_at) AS day, count(*) AS orders, sum(total_cents) AS revenue
    FROM orders
    GROUP BY 1;

CREATE OR REPLACE VIEW reporting.active_customers AS
    SELECT date_trunc('month', created_at) AS month, count(DISTINCT customer_id) AS customers
    FROM orders
    GROUP BY 1;

-- The analytics service reads the views and nothing else; its password is set by the
-- secret store's rotation job, never here.
CREATE ROLE analytics_ro LOGIN NOINHERIT;
GRANT USAGE ON SCHEMA reporting TO analytics_ro;
GRANT SELECT ON reporting.daily_orders, reporting.active_customers TO analytics_ro;
ALTER ROLE analytics_ro SET default_transaction_read_only = on;
