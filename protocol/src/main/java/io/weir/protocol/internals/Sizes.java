package io.weir.protocol.internals;

import io.weir.protocol.Records;
import java.nio.ByteBuffer;

/** Encoded sizes of wire primitives, mirroring {@link ProtocolWriter}. */
public final class Sizes {
    private Sizes() {
    }

    public static int unsignedVarint(int v) {
        // 1 + floor((bits needed - 1) / 7), with 0 taking one byte
        int bits = 32 - Integer.numberOfLeadingZeros(v | 1);
        return (bits + 6) / 7;
    }

    public static int unsignedVarlong(long v) {
        int bits = 64 - Long.numberOfLeadingZeros(v | 1);
        return (bits + 6) / 7;
    }

    public static int varint(int v) {
        return unsignedVarint((v << 1) ^ (v >> 31));
    }

    public static int varlong(long v) {
        return unsignedVarlong((v << 1) ^ (v >> 63));
    }

    private static int length(int n, boolean compact, boolean shortLength) {
        return compact ? unsignedVarint(n + 1) : (shortLength ? 2 : 4);
    }

    public static int string(String s, boolean compact) {
        if (s == null) {
            return length(-1, compact, true);
        }
        int n = Utf8.encodedLength(s);
        return length(n, compact, true) + n;
    }

    public static int bytes(byte[] b, boolean compact) {
        return b == null ? length(-1, compact, false) : length(b.length, compact, false) + b.length;
    }

    public static int records(Records r, boolean compact) {
        return r == null ? length(-1, compact, false) : length(r.sizeInBytes(), compact, false) + r.sizeInBytes();
    }

    public static int arrayLength(int n, boolean compact) {
        return length(n, compact, false);
    }
}
