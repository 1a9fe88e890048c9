package io.weir.streams.state;

import java.util.Arrays;

/**
 * A byte array with value equality and unsigned byte-wise order: the key type of byte-level stores,
 * as in {@code Materialized<K, V, KeyValueStore<Bytes, byte[]>>}. Wraps without copying.
 */
public final class Bytes implements Comparable<Bytes> {
    private final byte[] bytes;
    /** The cached hash (0: not computed yet, or 0 itself); a benign race, like String's. */
    private int hash;

    private Bytes(byte[] bytes) {
        this.bytes = bytes;
    }

    public static Bytes wrap(byte[] bytes) {
        return bytes == null ? null : new Bytes(bytes);
    }

    /** The wrapped array (shared, not copied). */
    public byte[] get() {
        return bytes;
    }

    @Override
    public int compareTo(Bytes o) {
        return Arrays.compareUnsigned(bytes, o.bytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Bytes b && Arrays.equals(bytes, b.bytes);
    }

    @Override
    public int hashCode() {
        int h = hash;
        if (h == 0) {
            h = Arrays.hashCode(bytes);   // the record cache hashes every key it looks up: computed once
            hash = h;
        }
        return h;
    }

    @Override
    public String toString() {
        return Arrays.toString(bytes);
    }
}
