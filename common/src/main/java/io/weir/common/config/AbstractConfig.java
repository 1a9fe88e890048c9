package io.weir.common.config;

import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Parsed, typed configuration values for one component, plus the original strings. Subclasses
 * expose typed getters with Kafka's key names. Immutable.
 */
public abstract class AbstractConfig {
    private final Map<String, Object> originals;
    private final Map<String, Object> values;
    private final Set<String> unknown;

    protected AbstractConfig(ConfigDef def, Map<String, ?> props) {
        this.originals = Collections.unmodifiableMap(new HashMap<>(props));
        this.values = def.parse(props);
        Set<String> u = new TreeSet<>();
        for (String k : props.keySet()) {
            if (!def.names().contains(k)) {
                u.add(k);
            }
        }
        this.unknown = Collections.unmodifiableSet(u);
    }

    public Map<String, Object> originals() {
        return originals;
    }

    public Map<String, Object> values() {
        return Collections.unmodifiableMap(values);
    }

    /** Keys given that this component does not define. */
    public Set<String> unknownKeys() {
        return unknown;
    }

    protected Object get(String key) {
        if (!values.containsKey(key)) {
            throw new ConfigException("Unknown configuration " + key);
        }
        return values.get(key);
    }

    public int getInt(String key) {
        return (Integer) get(key);
    }

    public short getShort(String key) {
        return (Short) get(key);
    }

    public long getLong(String key) {
        return (Long) get(key);
    }

    public double getDouble(String key) {
        return (Double) get(key);
    }

    public boolean getBoolean(String key) {
        return (Boolean) get(key);
    }

    public String getString(String key) {
        return (String) get(key);
    }

    @SuppressWarnings("unchecked")
    public List<String> getList(String key) {
        return (List<String>) get(key);
    }

    public Class<?> getClass(String key) {
        return (Class<?>) get(key);
    }
}
