package com.acme.checkout;

public final class Checkout {
    private static final long FREE_SHIPPING_CENTS = 5000;
    private static final long SHIPPING_CENTS = 495;

    private Checkout() {}

    public static long total(Basket basket, Customer customer) {
        long subtotal = basket.subtotalCents();
        long discount = discount(basket, customer, subtotal);
        long shipping = subtotal - discount >= FREE_SHIPPING_CENTS ? 0 : SHIPPING_CENTS;
        return subtotal - discount + shipping;
    }

    static long discount(Basket basket, Customer customer, long subtotal) {
        if (customer.isMember()) {
            return subtotal / 10;
        }
        if (basket.hasCoupon() && basket.coupon().isValid()) {
            return Math.min(basket.coupon().valueCents(), subtotal);
        }
        return 0;
    }
}
