-- Order status history.
ALTER TABLE orders ADD COLUMN status text NOT NULL DEFAULT 'pending';
ALTER TABLE orders ADD CONSTRAINT orders_status_valid
    CHECK (status IN ('pending', 'paid', 'shipped', 'refunded', 'cancelled'));

CREATE TABLE order_status_changes (
    order_id   bigint      NOT NULL REFERENCES orders (id),
    status     text        NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now()
);
