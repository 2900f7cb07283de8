'use strict';

const CURRENCY = 'eur';

function toMinorUnits(amount) {
  if (!Number.isFinite(amount) || amount < 0) {
    throw new RangeError(`invalid amount: ${amount}`);
  }
  return Math.round(amount * 100);
}

function describeOrder(order) {
  return `Order ${order.id} (${order.items.length} items)`;
}

module.exports = { CURRENCY, toMinorUnits, describeOrder };
