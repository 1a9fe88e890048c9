package io.weir.common.record;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/** A record header: a non-null string key and a nullable byte[] value. Immutable. */
public final class Header {
    private final String key;
    private final byte[] value;
    private volatile byte[] keyBytes;

    public Header(String key, byte[] value) {
        this.key = Objects.requireNonNull(key, "header key");
        this.value = value;
    }

    public String key() {
        return key;
    }

    /**
     * The key in UTF-8, encoded on first use and kept (a record's header is written twice per append: its
     * size, then its bytes). The array is shared: do not modify it.
     */
    public byte[] keyBytes() {
        byte[] bytes = keyBytes;
        if (bytes == null) {
            bytes = key.getBytes(StandardCharsets.UTF_8);
            keyBytes = bytes; // volatile: another thread sees the array's contents, or encodes its own
        }
        return bytes;
    }

    /** The value, or null. The array is shared: do not modify it. */
    public byte[] value() {
        return value;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Header h && key.equals(h.key) && Arrays.equals(value, h.value);
    }

    @Override
    public int hashCode() {
        return 31 * key.hashCode() + Arrays.hashCode(value);
    }

    @Override
    public String toString() {
        return key + "=" + (value == null ? "null" : new String(value, StandardCharsets.UTF_8));
    }
}
