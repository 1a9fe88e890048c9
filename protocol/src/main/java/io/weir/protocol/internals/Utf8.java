package io.weir.protocol.internals;

/**
 * UTF-8 length computation and encoding without intermediate byte arrays, so that sizing a message
 * and writing it never allocate per string.
 */
public final class Utf8 {
    private Utf8() {
    }

    /** Number of bytes {@code s} takes in UTF-8 (unpaired surrogates count as '?', as the JDK does). */
    public static int encodedLength(String s) {
        int n = s.length();
        int bytes = n;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                continue;
            }
            if (c < 0x800) {
                bytes += 1;
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                bytes += 2; // 4 bytes for 2 chars
                i++;
            } else if (Character.isSurrogate(c)) {
                // unpaired surrogate: encoded as '?' (1 byte), already counted
                continue;
            } else {
                bytes += 2;
            }
        }
        return bytes;
    }
}
