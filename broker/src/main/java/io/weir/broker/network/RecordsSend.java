package io.weir.broker.network;

import io.weir.protocol.Records;

import java.io.IOException;
import java.nio.channels.GatheringByteChannel;

/**
 * Sends file-backed records (a fetch's segment region) with their own zero-copy path
 * ({@code FileChannel.transferTo} inside {@link io.weir.log.FileRegion}). If the file ended early (a
 * truncation or deletion raced the fetch) the send fails and the connection closes; the client
 * retries the fetch.
 */
public final class RecordsSend implements Send {
    private final Records.Sendable records;
    private final long size;
    private long sent;

    public RecordsSend(Records.Sendable records) {
        this.records = records;
        this.size = records.sizeInBytes();
    }

    @Override
    public long writeTo(GatheringByteChannel channel) throws IOException {
        long n = records.writeTo(channel, sent, size - sent);
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
