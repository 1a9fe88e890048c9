package io.weir.common.utils;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * CRC-32C (Castagnoli) over a region of a buffer, without moving the buffer. Thread-safe: each thread
 * reuses its own {@link CRC32C}, and a heap buffer is read through its array, so a computation
 * allocates nothing (a direct buffer still needs one view to bound the region).
 */
public final class Crc32c {
    private static final ThreadLocal<CRC32C> CRC = ThreadLocal.withInitial(CRC32C::new);

    private Crc32c() {
    }

    public static long compute(ByteBuffer buffer, int offset, int length) {
        // the bounds a duplicate's limit()/position() enforced before: the region may pass the limit, not the capacity
        if (offset < 0 || length < 0 || (long) offset + length > buffer.capacity()) {
            throw new IllegalArgumentException("region [" + offset + ", " + ((long) offset + length) + ") outside [0, "
                + buffer.capacity() + ")");
        }
        CRC32C crc = CRC.get();
        crc.reset();
        if (buffer.hasArray()) {
            crc.update(buffer.array(), buffer.arrayOffset() + offset, length);
        } else {
            ByteBuffer view = buffer.duplicate();
            view.limit(offset + length).position(offset);
            crc.update(view);
        }
        return crc.getValue();
    }
}
