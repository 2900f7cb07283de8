package com.acme.pricing;

import java.util.HashMap;
import java.util.Map;

/** Shared by every request thread. */
public final class RuleCache {
    private final RuleLoader loader;
    private Map<String, Rule> rules;

    public RuleCache(RuleLoader loader) {
        this.loader = loader;
    }

    public Rule get(String sku) {
        if (rules == null) {
            rules = new HashMap<>(loader.loadAll());
        }
        return rules.getOrDefault(sku, Rule.NONE);
    }
}
