package com.acme.shop;

import java.util.Base64;
import java.util.List;
import java.util.stream.Collectors;

public final class CartCookie {
    private CartCookie() {}

    public static String encode(Cart cart) {
        String items = cart.items().stream()
                .map(i -> i.sku() + ":" + i.quantity())
                .collect(Collectors.joining(","));
        return Base64.getUrlEncoder().encodeToString(items.getBytes());
    }

    public static List<String> skus(Cart cart) {
        return cart.items().stream().map(CartItem::sku).toList();
    }
}
