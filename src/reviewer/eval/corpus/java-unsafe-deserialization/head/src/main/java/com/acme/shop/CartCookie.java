package com.acme.shop;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
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

    public static Cart decode(String cookieValue) throws IOException, ClassNotFoundException {
        byte[] raw = Base64.getUrlDecoder().decode(cookieValue);
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(raw))) {
            return (Cart) in.readObject();
        }
    }

    public static List<String> skus(Cart cart) {
        return cart.items().stream().map(CartItem::sku).toList();
    }
}
