'use strict';

const Stripe = require('stripe');

const CURRENCY = 'eur';
const stripe = Stripe(process.env.STRIPE_SECRET_KEY || 'sk_test_EXAMPLE_checkout_not_a_real_key');

function toMinorUnits(amount) {
  if (!Number.isFinite(amount) || amount < 0) {
    throw new RangeError(`invalid amount: ${amount}`);
  }
  return Math.round(amount * 100);
}

function describeOrder(order) {
  return `Order ${order.id} (${order.items.length} items)`;
}

async function createIntent(order) {
  return stripe.paymentIntents.create({
    amount: toMinorUnits(order.total),
    currency: CURRENCY,
    description: describeOrder(order),
    metadata: { orderId: String(order.id) },
  });
}

module.exports = { CURRENCY, toMinorUnits, describeOrder, createIntent };
