package io.weir.log;

/** A configuration value is missing, malformed or out of range; the message names the key and what is allowed. */
public final class ConfigException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String key, Object value, String allowed) {
        super("Invalid value '" + value + "' for configuration " + key + ": " + allowed);
    }
}
