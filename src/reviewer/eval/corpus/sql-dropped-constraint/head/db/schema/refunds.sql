CREATE TABLE refunds (
    id           bigserial PRIMARY KEY,
    payment_id   bigint      NOT NULL REFERENCES payments (id),
    amount_cents bigint      NOT NULL,
    paid_cents   bigint      NOT NULL,
    reason       text        NOT NULL,
    partial      boolean     NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX refunds_created_idx ON refunds (created_at);
CREATE INDEX refunds_payment_idx ON refunds (payment_id);
