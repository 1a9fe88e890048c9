package io.weir.common.utils;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/** CRC-32C (Castagnoli) over a region of a buffer, without moving the buffer. Thread-safe. */
public final class Crc32c {
    private Crc32c() {
    }

    public static long compute(ByteBuffer buffer, int offset, int length) {
        CRC32C crc = new CRC32C();
        ByteBuffer view = buffer.duplicate();
        view.limit(offset + length).position(offset);
        crc.update(view);
        return crc.getValue();
    }
}
