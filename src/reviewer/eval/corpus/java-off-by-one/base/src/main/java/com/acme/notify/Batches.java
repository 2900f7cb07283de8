package com.acme.notify;

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
}
