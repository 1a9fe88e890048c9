package io.weir.common.config;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A table of configuration keys (Kafka's names), each with a type, a default, a validator and a doc
 * line. {@link #parse} turns user strings (or typed values) into typed values once, failing with a
 * {@link ConfigException} that names the key and what is allowed. Shared by the broker, topic
 * (log) configs and the clients, so every component validates the same way.
 *
 * <p>Immutable after definition; thread-safe to parse from any thread.
 */
public final class ConfigDef {
    /** Marks a key that has no default: it must be given. */
    public static final Object NO_DEFAULT = new Object();

    public enum Type { BOOLEAN, INT, SHORT, LONG, DOUBLE, STRING, LIST, CLASS }

    /** Checks one parsed value. */
    @FunctionalInterface
    public interface Validator {
        void ensureValid(String name, Object value);
    }

    public record Key(String name, Type type, Object defaultValue, Validator validator, String doc) {
    }

    private final Map<String, Key> keys = new LinkedHashMap<>();

    public ConfigDef define(String name, Type type, Object defaultValue, Validator validator, String doc) {
        if (keys.containsKey(name)) {
            throw new IllegalArgumentException("configuration " + name + " is defined twice");
        }
        Object parsedDefault = defaultValue == NO_DEFAULT || defaultValue == null ? defaultValue
            : parseValue(name, type, defaultValue);
        if (validator != null && parsedDefault != NO_DEFAULT && parsedDefault != null) {
            validator.ensureValid(name, parsedDefault);
        }
        keys.put(name, new Key(name, type, parsedDefault, validator, doc));
        return this;
    }

    public ConfigDef define(String name, Type type, Object defaultValue, String doc) {
        return define(name, type, defaultValue, null, doc);
    }

    public Set<String> names() {
        return Collections.unmodifiableSet(keys.keySet());
    }

    public Map<String, Key> keys() {
        return Collections.unmodifiableMap(keys);
    }

    /** Parses every defined key from {@code props}; keys not defined here are left to the caller. */
    public Map<String, Object> parse(Map<String, ?> props) {
        Map<String, Object> values = new LinkedHashMap<>();
        for (Key k : keys.values()) {
            Object value;
            if (props.containsKey(k.name())) {
                value = parseValue(k.name(), k.type(), props.get(k.name()));
            } else if (k.defaultValue() == NO_DEFAULT) {
                throw new ConfigException("Missing required configuration " + k.name() + ": " + k.doc());
            } else {
                value = k.defaultValue();
            }
            if (k.validator() != null && value != null) {
                k.validator().ensureValid(k.name(), value);
            }
            values.put(k.name(), value);
        }
        return values;
    }

    static Object parseValue(String name, Type type, Object value) {
        if (value == null) {
            return null;
        }
        String s = value instanceof String str ? str.trim() : null;
        try {
            switch (type) {
                case BOOLEAN:
                    if (value instanceof Boolean) {
                        return value;
                    }
                    if ("true".equalsIgnoreCase(s) || "false".equalsIgnoreCase(s)) {
                        return Boolean.parseBoolean(s);
                    }
                    throw new ConfigException(name, value, "expected true or false");
                case INT:
                    return value instanceof Number n ? Math.toIntExact(n.longValue()) : Integer.parseInt(s);
                case SHORT:
                    return value instanceof Number n ? (short) n.intValue() : Short.parseShort(s);
                case LONG:
                    return value instanceof Number n ? n.longValue() : Long.parseLong(s);
                case DOUBLE:
                    return value instanceof Number n ? n.doubleValue() : Double.parseDouble(s);
                case STRING:
                    return value instanceof String ? s : value.toString();
                case LIST:
                    if (value instanceof List<?> l) {
                        List<String> out = new ArrayList<>();
                        l.forEach(o -> out.add(String.valueOf(o).trim()));
                        return Collections.unmodifiableList(out);
                    }
                    String str = value.toString().trim();
                    if (str.isEmpty()) {
                        return List.of();
                    }
                    return Arrays.stream(str.split("\\s*,\\s*")).toList();
                case CLASS:
                    if (value instanceof Class<?>) {
                        return value;
                    }
                    return Class.forName(s, true, Thread.currentThread().getContextClassLoader() != null
                        ? Thread.currentThread().getContextClassLoader() : ConfigDef.class.getClassLoader());
                default:
                    throw new IllegalStateException("unknown type " + type);
            }
        } catch (NumberFormatException | ArithmeticException e) {
            throw new ConfigException(name, value, "expected " + type.name().toLowerCase(Locale.ROOT));
        } catch (ClassNotFoundException e) {
            throw new ConfigException(name, value, "class not found");
        }
    }

    /** A numeric range check; either bound may be null. */
    public static Validator between(Number min, Number max) {
        return (name, value) -> {
            double v = ((Number) value).doubleValue();
            if (min != null && v < min.doubleValue()) {
                throw new ConfigException(name, value, "value must be at least " + min);
            }
            if (max != null && v > max.doubleValue()) {
                throw new ConfigException(name, value, "value must be no more than " + max);
            }
        };
    }

    public static Validator atLeast(Number min) {
        return between(min, null);
    }

    /** The value (case-insensitive) must be one of these strings. */
    public static Validator in(String... allowed) {
        return (name, value) -> {
            for (String a : allowed) {
                if (a.equalsIgnoreCase(value.toString())) {
                    return;
                }
            }
            throw new ConfigException(name, value, "allowed values are " + String.join(", ", allowed));
        };
    }

    /** Every element of a list value must be one of these strings. */
    public static Validator eachIn(String... allowed) {
        Validator one = in(allowed);
        return (name, value) -> {
            for (Object o : (List<?>) value) {
                one.ensureValid(name, o);
            }
        };
    }

    /** Returns the docs as "key (type, default): doc" lines, for usage output. */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        for (Key k : keys.values()) {
            sb.append(k.name()).append(" (").append(k.type().name().toLowerCase(Locale.ROOT));
            if (k.defaultValue() != NO_DEFAULT) {
                sb.append(", default ").append(k.defaultValue());
            }
            sb.append("): ").append(k.doc()).append('\n');
        }
        return sb.toString();
    }
}
