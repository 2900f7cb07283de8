CREATE TABLE refunds (
    id           bigserial PRIMARY KEY,
    payment_id   bigint      NOT NULL REFERENCES payments (id),
    amount_cents bigint      NOT NULL,
    paid_cents   bigint      NOT NULL,
    reason       text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT refund_amount_valid
        CHECK (amount_cents > 0 AND amount_cents <= paid_cents),
    UNIQUE (payment_id)
);

CREATE INDEX refunds_created_idx ON refunds (created_at);
