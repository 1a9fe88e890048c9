package io.weir.broker.server;

import io.weir.log.FileRegion;
import io.weir.protocol.Records;

import java.io.IOException;
import java.nio.channels.WritableByteChannel;

/** A segment file region as a protocol records value: spliced into a fetch response, sent zero-copy. */
final class FileRegionRecords extends Records.Sendable {
    private final FileRegion region;

    FileRegionRecords(FileRegion region) {
        this.region = region;
    }

    @Override
    public int sizeInBytes() {
        return region.sizeInBytes();
    }

    @Override
    public long writeTo(WritableByteChannel channel, long offset, long length) throws IOException {
        return region.writeTo(channel, offset, length);
    }
}
