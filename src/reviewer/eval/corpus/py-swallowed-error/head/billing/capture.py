"""Capture authorised payments for orders that have shipped."""

from __future__ import annotations

import logging

from billing.provider import PaymentProvider
from billing.store import Order, OrderStore

log = logging.getLogger(__name__)


def capture_shipped(store: OrderStore, provider: PaymentProvider) -> int:
    captured = 0
    for order in store.shipped_uncaptured():
        try:
            provider.capture(order.payment_id, order.total_cents)
        except Exception:
            pass
        store.mark_captured(order.id)
        captured += 1
    log.info("captured %d orders", captured)
    return captured


def describe(order: Order) -> str:
    return f"order {order.id}: {order.total_cents / 100:.2f} {order.currency}"
