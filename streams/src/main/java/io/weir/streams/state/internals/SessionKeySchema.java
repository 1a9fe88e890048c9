package io.weir.streams.state.internals;

import java.nio.ByteBuffer;

/**
 * The byte layout of a session store's keys over a {@link TransactionalBytesStore}:
 *
 * <pre>
 *   escaped user key (0x00 -> 0x00 0xFF) | 0x00 0x00 | session end: 8 bytes | session start: 8 bytes
 * </pre>
 *
 * (times big-endian with the sign bit flipped, see {@link OrderedKeys}). Sessions of one key sort by end,
 * then start, so the sessions a new record may merge with (end {@code >=} earliest end) are one range scan
 * from {@link #lowerBound}, filtered only by start.
 */
public final class SessionKeySchema {
    /** Bytes after the key's terminator: end and start. */
    static final int SUFFIX_BYTES = 8 + 8;

    private SessionKeySchema() {
    }

    /** The store key of the session (key, start, end). */
    public static byte[] toStoreKey(byte[] key, long startMs, long endMs) {
        ByteBuffer buf = ByteBuffer.allocate(OrderedKeys.escapedLength(key) + SUFFIX_BYTES);
        OrderedKeys.putEscaped(buf, key);
        return buf.putLong(OrderedKeys.encodeTime(endMs)).putLong(OrderedKeys.encodeTime(startMs)).array();
    }

    /** The user key of a store key. */
    public static byte[] key(byte[] storeKey) {
        return OrderedKeys.unescape(storeKey, SUFFIX_BYTES);
    }

    /** The session end of a store key. */
    public static long end(byte[] storeKey) {
        return OrderedKeys.readTime(storeKey, storeKey.length - 16);
    }

    /** The session start of a store key. */
    public static long start(byte[] storeKey) {
        return OrderedKeys.readTime(storeKey, storeKey.length - 8);
    }

    /** The smallest store key of {@code key} with end {@code >= earliestEndMs}. */
    public static byte[] lowerBound(byte[] key, long earliestEndMs) {
        return toStoreKey(key, Long.MIN_VALUE, earliestEndMs);
    }

    /** The largest store key of {@code key} with end {@code <= latestEndMs}. */
    public static byte[] upperBound(byte[] key, long latestEndMs) {
        return toStoreKey(key, Long.MAX_VALUE, latestEndMs);
    }
}
