package io.weir.broker.network;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.GatheringByteChannel;

/**
 * A region of a segment file sent with {@link FileChannel#transferTo} (zero copy: the bytes go from
 * the page cache to the socket without entering the JVM heap). This is the one place fetch data
 * leaves the broker; a copying fallback (for TLS, later) belongs here too.
 *
 * <p>If the file shrank under us (a truncation raced the fetch), the missing tail is an IOException
 * and the connection is closed: the client retries the fetch.
 */
public final class FileRegionSend implements Send {
    private final FileChannel file;
    private final long start;
    private final long size;
    private long sent;

    public FileRegionSend(FileChannel file, long position, long size) {
        this.file = file;
        this.start = position;
        this.size = size;
    }

    @Override
    public long writeTo(GatheringByteChannel channel) throws IOException {
        long n = file.transferTo(start + sent, size - sent, channel);
        if (n == 0 && start + sent >= file.size()) {
            throw new IOException("segment file ended at " + file.size() + " before region end " + (start + size));
        }
        sent += n;
        return n;
    }

    @Override
    public boolean completed() {
        return sent >= size;
    }

    @Override
    public long size() {
        return size;
    }
}
