package com.acme.pricing;

import java.util.Map;

public final class RuleCache {
    private final RuleLoader loader;
    private final Map<String, Rule> rules;

    public RuleCache(RuleLoader loader) {
        this.loader = loader;
        this.rules = loader.loadAll();
    }

    public Rule get(String sku) {
        return rules.getOrDefault(sku, Rule.NONE);
    }
}
