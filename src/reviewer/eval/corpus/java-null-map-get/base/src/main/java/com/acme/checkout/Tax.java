package com.acme.checkout;

public final class Tax {
    private static final double DEFAULT_RATE = 0.20;

    private Tax() {}

    public static long withTax(long netCents) {
        return Math.round(netCents * (1 + DEFAULT_RATE));
    }

    public static long taxOnly(long netCents) {
        return withTax(netCents) - netCents;
    }
}
