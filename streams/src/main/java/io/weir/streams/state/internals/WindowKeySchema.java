package io.weir.streams.state.internals;

import java.nio.ByteBuffer;

/**
 * The byte layout of a window store's keys over a {@link TransactionalBytesStore}:
 *
 * <pre>
 *   escaped user key (0x00 -> 0x00 0xFF) | 0x00 0x00 | window start: 8 bytes big-endian, sign bit flipped | seqnum: 4 bytes big-endian
 * </pre>
 *
 * Entries sort by user key, then window start, then sequence number (see {@link OrderedKeys} for why the
 * key is escaped rather than written raw), so {@code fetch(key, timeFrom, timeTo)} is one range scan from
 * {@link #lowerBound} to {@link #upperBound} with nothing to filter. The sequence number keeps several
 * values for one key and window apart (stores that retain duplicates, such as stream–stream joins);
 * other stores always write 0.
 */
public final class WindowKeySchema {
    /** Bytes after the key's terminator: window start and sequence number. */
    static final int SUFFIX_BYTES = 8 + 4;

    private WindowKeySchema() {
    }

    /** The store key of (key, window start, seqnum). */
    public static byte[] toStoreKey(byte[] key, long windowStartMs, int seqnum) {
        ByteBuffer buf = ByteBuffer.allocate(OrderedKeys.escapedLength(key) + SUFFIX_BYTES);
        OrderedKeys.putEscaped(buf, key);
        return buf.putLong(OrderedKeys.encodeTime(windowStartMs)).putInt(seqnum).array();
    }

    /** The user key of a store key. */
    public static byte[] key(byte[] storeKey) {
        return OrderedKeys.unescape(storeKey, SUFFIX_BYTES);
    }

    /** The window start of a store key. */
    public static long windowStart(byte[] storeKey) {
        return OrderedKeys.readTime(storeKey, storeKey.length - SUFFIX_BYTES);
    }

    /** The sequence number of a store key. */
    public static int seqnum(byte[] storeKey) {
        return ByteBuffer.wrap(storeKey, storeKey.length - 4, 4).getInt();
    }

    /** The smallest store key of {@code key} with window start {@code >= timeFromMs}. */
    public static byte[] lowerBound(byte[] key, long timeFromMs) {
        return toStoreKey(key, timeFromMs, 0);
    }

    /** The largest store key of {@code key} with window start {@code <= timeToMs}. */
    public static byte[] upperBound(byte[] key, long timeToMs) {
        return toStoreKey(key, timeToMs, -1); // seqnum 0xFFFFFFFF, the largest unsigned
    }
}
