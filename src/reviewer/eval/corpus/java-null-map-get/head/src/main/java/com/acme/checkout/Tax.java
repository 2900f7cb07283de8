package com.acme.checkout;

import java.util.Map;

public final class Tax {
    private static final Map<String, Double> RATES = Map.of(
            "DE", 0.19,
            "FR", 0.20,
            "NL", 0.21,
            "IE", 0.23);

    private Tax() {}

    public static long withTax(long netCents, String country) {
        double rate = RATES.get(country);
        return Math.round(netCents * (1 + rate));
    }

    public static long taxOnly(long netCents, String country) {
        return withTax(netCents, country) - netCents;
    }
}
