package io.weir.broker.network;

import java.io.IOException;
import java.nio.channels.GatheringByteChannel;
import java.util.List;

/** Several sends written one after the other (a fetch response: header buffers and file regions). */
public final class MultiSend implements Send {
    private final List<Send> parts;
    private final long size;
    private int current;

    public MultiSend(List<Send> parts) {
        this.parts = parts;
        long s = 0;
        for (Send p : parts) {
            s += p.size();
        }
        this.size = s;
    }

    @Override
    public long writeTo(GatheringByteChannel channel) throws IOException {
        long total = 0;
        while (current < parts.size()) {
            Send part = parts.get(current);
            if (!part.completed()) {
                long n = part.writeTo(channel);
                total += n;
                if (!part.completed()) {
                    break; // socket buffer full: continue on the next OP_WRITE
                }
            }
            current++;
        }
        return total;
    }

    @Override
    public boolean completed() {
        return current >= parts.size();
    }

    @Override
    public long size() {
        return size;
    }
}
