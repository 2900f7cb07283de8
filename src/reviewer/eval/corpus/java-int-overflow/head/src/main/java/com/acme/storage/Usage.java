package com.acme.storage;

public final class Usage {
    public static final int BLOCK_SIZE = 4096;

    private Usage() {}

    public static int blocksUsed(Account account) {
        return account.blockCount();
    }

    public static long bytesUsed(Account account) {
        int blocks = account.blockCount();
        long bytes = blocks * BLOCK_SIZE;
        return bytes;
    }

    public static boolean overQuota(Account account) {
        return bytesUsed(account) > account.quotaBytes();
    }

    public static boolean isEmpty(Account account) {
        return account.blockCount() == 0;
    }
}
