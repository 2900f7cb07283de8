package com.acme.storage;

public final class Usage {
    public static final int BLOCK_SIZE = 4096;

    private Usage() {}

    public static int blocksUsed(Account account) {
        return account.blockCount();
    }

    public static boolean isEmpty(Account account) {
        return account.blockCount() == 0;
    }
}
