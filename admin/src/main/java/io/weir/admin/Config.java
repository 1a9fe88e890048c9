package io.weir.admin;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/** The configs of one resource, in the order the broker listed them. Immutable. */
public final class Config {
    private final Map<String, ConfigEntry> entries = new LinkedHashMap<>();

    public Config(Collection<ConfigEntry> entries) {
        for (ConfigEntry e : entries) {
            this.entries.put(e.name(), e);
        }
    }

    public Collection<ConfigEntry> entries() {
        return java.util.Collections.unmodifiableCollection(entries.values());
    }

    /** The entry named {@code name}, or null. */
    public ConfigEntry get(String name) {
        return entries.get(name);
    }

    @Override
    public String toString() {
        return "Config(" + entries.values() + ")";
    }
}
