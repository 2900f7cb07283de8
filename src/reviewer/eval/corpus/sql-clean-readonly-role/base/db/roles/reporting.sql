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
