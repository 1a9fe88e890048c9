package io.weir.streams.state.internals;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * Order-preserving pieces of composite store keys (window and session stores).
 *
 * <p>A user key is written escaped (each 0x00 byte becomes 0x00 0xFF) and terminated by 0x00 0x00, so a
 * key always sorts before its extensions and the fixed-size suffix that follows (times, sequence number)
 * can never make one key's entries interleave with another's: "a"+suffix and "a\0"+suffix, or "a"+suffix
 * and "ab"+suffix, stay apart. Composite keys therefore sort by user key (unsigned byte-wise, as the
 * plain keys would) and then by suffix, and every key-range or key-and-time-range query is one
 * contiguous range scan. A plain {@code key + suffix} layout cannot promise that when keys vary in length.
 *
 * <p>Times are 8 bytes big-endian with the sign bit flipped, so negative times sort before positive ones
 * under unsigned comparison.
 */
final class OrderedKeys {
    private OrderedKeys() {
    }

    /** Bytes of the escaped, terminated key. */
    static int escapedLength(byte[] key) {
        int n = key.length + 2;
        for (byte b : key) {
            if (b == 0) {
                n++;
            }
        }
        return n;
    }

    static void putEscaped(ByteBuffer buf, byte[] key) {
        for (byte b : key) {
            buf.put(b);
            if (b == 0) {
                buf.put((byte) 0xFF);
            }
        }
        buf.put((byte) 0).put((byte) 0);
    }

    /** The escaped, terminated key alone: a lower bound of every composite key of this user key. */
    static byte[] escaped(byte[] key) {
        ByteBuffer buf = ByteBuffer.allocate(escapedLength(key));
        putEscaped(buf, key);
        return buf.array();
    }

    /**
     * Just above every composite key of this user key and below every composite key of any other user key
     * that sorts after it: the escaped key with the terminator's last byte 0x00 raised to 0x01.
     */
    static byte[] afterKey(byte[] key) {
        byte[] bound = escaped(key);
        bound[bound.length - 1] = 1;
        return bound;
    }

    /** The user key of a composite key whose suffix (after the terminator) is {@code suffixBytes} long. */
    static byte[] unescape(byte[] composite, int suffixBytes) {
        int end = composite.length - suffixBytes - 2; // before the terminator
        if (end < 0 || composite[end] != 0 || composite[end + 1] != 0) {
            throw new IllegalArgumentException("not a composite key with a " + suffixBytes + "-byte suffix");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(end);
        for (int i = 0; i < end; i++) {
            out.write(composite[i]);
            if (composite[i] == 0) {
                i++; // skip the 0xFF escape
            }
        }
        return out.toByteArray();
    }

    static long encodeTime(long timeMs) {
        return timeMs ^ Long.MIN_VALUE;
    }

    static long readTime(byte[] composite, int offset) {
        return ByteBuffer.wrap(composite, offset, 8).getLong() ^ Long.MIN_VALUE;
    }

    /**
     * Deletes (uncommitted) every composite key whose time (read by {@code time}) is below {@code cutoffMs},
     * for stores whose composite keys of one user key sort by that time. One range scan per user key: it
     * reads a key's expired entries, then jumps past the rest of that key with {@link #afterKey}. Deletes
     * happen after each scan's iterator is closed.
     *
     * @return how many entries it deleted
     */
    static int removeBefore(TransactionalBytesStore store, int suffixBytes, ToLongFunction<byte[]> time, long cutoffMs) {
        int removed = 0;
        byte[] cursor = null;
        while (true) {
            List<byte[]> expired = new ArrayList<>();
            byte[] userKey;
            try (BytesIterator it = store.range(cursor, null)) {
                if (!it.hasNext()) {
                    return removed;
                }
                byte[] storeKey = it.next().key();
                userKey = unescape(storeKey, suffixBytes);
                int prefixBytes = storeKey.length - suffixBytes;
                while (time.applyAsLong(storeKey) < cutoffMs) {
                    expired.add(storeKey);
                    if (!it.hasNext()) {
                        break;
                    }
                    byte[] following = it.next().key();
                    if (following.length != storeKey.length
                        || !Arrays.equals(following, 0, prefixBytes, storeKey, 0, prefixBytes)) {
                        break;
                    }
                    storeKey = following;
                }
            }
            for (byte[] k : expired) {
                store.delete(k);
            }
            removed += expired.size();
            cursor = afterKey(userKey);
        }
    }
}
