package io.weir.broker.network;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;

/** A send of one or more heap/direct buffers, written with a gathering write. Not thread-safe. */
public final class ByteBufferSend implements Send {
    private final ByteBuffer[] buffers;
    private final long size;
    private long remaining;

    public ByteBufferSend(ByteBuffer... buffers) {
        this.buffers = buffers;
        long s = 0;
        for (ByteBuffer b : buffers) {
            s += b.remaining();
        }
        this.size = s;
        this.remaining = s;
    }

    @Override
    public long writeTo(GatheringByteChannel channel) throws IOException {
        long n = channel.write(buffers);
        if (n < 0) {
            throw new IOException("channel closed");
        }
        remaining -= n;
        return n;
    }

    @Override
    public boolean completed() {
        return remaining <= 0;
    }

    @Override
    public long size() {
        return size;
    }
}
