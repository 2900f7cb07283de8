package com.acme.notify;

import java.util.ArrayList;
import java.util.List;

public final class Batches {
    public static final int MAX_RECIPIENTS = 500;

    private Batches() {}

    public static boolean fitsOneRequest(List<String> recipients) {
        return recipients.size() <= MAX_RECIPIENTS;
    }

    public static int requestsNeeded(List<String> recipients) {
        return (recipients.size() + MAX_RECIPIENTS - 1) / MAX_RECIPIENTS;
    }

    public static <T> List<List<T>> chunks(List<T> items, int size) {
        List<List<T>> out = new ArrayList<>();
        for (int start = 0; start <= items.size(); start += size) {
            int end = Math.min(start + size, items.size());
            out.add(items.subList(start, end));
        }
        return out;
    }
}
