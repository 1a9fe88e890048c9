package io.weir.broker.network;

import io.weir.common.testing.Batches;
import io.weir.common.testing.MockTime;
import io.weir.common.testing.TempDirs;
import io.weir.log.FileRegion;
import io.weir.log.Log;
import io.weir.log.LogConfig;
import io.weir.protocol.Records;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static io.weir.broker.network.RawSocketFixture.readFrame;
import static io.weir.broker.network.RawSocketFixture.sendFrame;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A response answered by a thread whose interrupt flag is set (a request handler or purgatory reaper being
 * stopped): a {@code SocketChannel} written by an interrupted thread closes itself (and, before segments used
 * {@code InterruptSafeFileChannel}, a {@code transferTo} closed the segment's shared {@code FileChannel}), so
 * that thread must not write; the network thread sends the whole response and the segment stays readable and
 * appendable. The test thread is the handler.
 */
class InterruptedResponderTest {
    private final MockTime time = new MockTime();
    private final RawSocketFixture net = new RawSocketFixture(16);
    private final Path root = TempDirs.create("interrupted-responder");
    private Log log;

    @AfterEach
    void stop() throws IOException {
        Thread.interrupted();
        net.close();
        if (log != null) {
            try {
                log.close();
            } catch (RuntimeException ignored) {
                // its segment channel may have been closed under it (the bug this test is about)
            }
        }
        TempDirs.delete(root);
    }

    /** A segment region spliced into a response, written with {@code transferTo} as a fetch's records are. */
    private static final class RegionRecords extends Records.Sendable {
        private final FileRegion region;

        RegionRecords(FileRegion region) {
            this.region = region;
        }

        @Override
        public int sizeInBytes() {
            return region.sizeInBytes();
        }

        @Override
        public long writeTo(WritableByteChannel target, long offset, long length) throws IOException {
            return region.writeTo(target, offset, length);
        }
    }

    @Test
    void shouldLeaveTheSegmentOpenAndSendTheWholeFetchResponseWhenTheAnsweringThreadIsInterrupted()
        throws Exception {
        log = Log.open(root.resolve("orders-0"), LogConfig.fromMap(Map.of()), 0, 0, true, time);
        log.appendAsLeader(Batches.records(time.milliseconds(), "a", "b", "c"), 0);
        FileRegion region = log.read(0, 1 << 20, Long.MAX_VALUE, true).records();
        assertTrue(region.sizeInBytes() > 0);
        ByteBuffer expected = ByteBuffer.allocate(region.sizeInBytes());
        region.readInto(expected, 0);

        net.start(SocketServer.Settings.defaults(1, 1024).withResponsePath(true, true), time);
        try (Socket s = net.connect()) {
            sendFrame(s, "fetch");
            RequestChannel.Request fetch = net.nextRequest();

            ByteBuffer size = ByteBuffer.allocate(4).putInt(0, region.sizeInBytes());
            Thread.currentThread().interrupt(); // as a handler being stopped while it answers
            try {
                fetch.respond(new MultiSend(List.of(new ByteBufferSend(size),
                    new RecordsSend(new RegionRecords(region)))));
                assertTrue(Thread.currentThread().isInterrupted(), "respond leaves the interrupt flag alone");
            } finally {
                Thread.interrupted();
            }

            assertArrayEquals(expected.array(), readFrame(s), "the whole region, sent by the network thread");
        }
        // the segment's channel is still open: the region reads, the log appends and reads on
        ByteBuffer again = ByteBuffer.allocate(region.sizeInBytes());
        region.readInto(again, 0);
        assertArrayEquals(expected.array(), again.array());
        log.appendAsLeader(Batches.records(time.milliseconds(), "d"), 0);
        assertEquals(4, log.logEndOffset());
        assertEquals(4, Batches.describe(log.read(0, 1 << 20, Long.MAX_VALUE, true).records().readRecords()).size());
    }
}
