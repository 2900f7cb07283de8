package com.acme.checkout;

public final class Checkout {
    private static final long FREE_SHIPPING_CENTS = 5000;
    private static final long SHIPPING_CENTS = 495;

    private Checkout() {}

    public static long total(Basket basket, Customer customer) {
        long subtotal = basket.subtotalCents();
        long discount = 0;
        if (customer.isMember()) {
            discount = subtotal / 10;
        } else if (basket.hasCoupon() && basket.coupon().isValid()) {
            discount = Math.min(basket.coupon().valueCents(), subtotal);
        }
        long shipping = subtotal - discount >= FREE_SHIPPING_CENTS ? 0 : SHIPPING_CENTS;
        return subtotal - discount + shipping;
    }
}
