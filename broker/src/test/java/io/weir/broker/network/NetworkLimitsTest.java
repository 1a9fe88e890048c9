package io.weir.broker.network;

import io.weir.common.testing.MockTime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static io.weir.broker.network.RawSocketFixture.await;
import static io.weir.broker.network.RawSocketFixture.closedByBroker;
import static io.weir.broker.network.RawSocketFixture.echo;
import static io.weir.broker.network.RawSocketFixture.readFrame;
import static io.weir.broker.network.RawSocketFixture.sendFrame;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The network front's limits on a real socket, with a mock clock and the test thread as the
 * request handler: the request memory pool (only received bytes count; exhaustion mutes reads and a
 * release resumes them), the partial-frame and idle timeouts, and the connection limits.
 */
class NetworkLimitsTest {
    private static final long READ_TIMEOUT_MS = 30_000;
    private static final long IDLE_MS = 600_000;

    private final MockTime time = new MockTime();
    private final RawSocketFixture net = new RawSocketFixture(64);
    private SocketServer server;

    private void start(SocketServer.Settings settings) throws IOException {
        server = net.start(settings, time);
    }

    private static SocketServer.Settings settings(int maxRequestBytes, long poolBytes) {
        return SocketServer.Settings.defaults(1, maxRequestBytes).withQueuedMaxRequestBytes(poolBytes)
            .withTimeouts(READ_TIMEOUT_MS, IDLE_MS);
    }

    @AfterEach
    void stop() throws IOException {
        net.close();
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    /** One request/response on {@code s}, handled by the test thread. */
    private void roundTrip(Socket s, String text) throws IOException, InterruptedException {
        sendFrame(s, text);
        echo(net.nextRequest());
        assertArrayEquals(text.getBytes(StandardCharsets.UTF_8), readFrame(s));
    }

    @Test
    void shouldHoldOnlyTheBytesReceivedOfStalledLargeFrames() throws Exception {
        int declared = 100 << 20;
        start(settings(declared, declared));
        for (int i = 0; i < 20; i++) {
            DataOutputStream out = new DataOutputStream(net.connect().getOutputStream());
            out.writeInt(declared);
            out.write(new byte[10]);
            out.flush();
        }
        await(() -> server.memoryPool().usedBytes() == 200, "20 stalled frames holding 10 bytes each");
        Socket healthy = net.connect();
        roundTrip(healthy, "still answering");
        assertEquals(200, server.memoryPool().usedBytes(), "the answered request gave its bytes back");
    }

    @Test
    void shouldReassembleFramesThatArriveInPiecesOfAnySize() throws Exception {
        start(settings(2 << 20, 2 << 20));
        Socket s = net.connect();
        s.setTcpNoDelay(true);
        java.util.Random random = new java.util.Random(42);
        int[] sizes = {1, Processor.READ_CHUNK_BYTES - 1, Processor.READ_CHUNK_BYTES, Processor.READ_CHUNK_BYTES + 1,
            300_001, 2 << 20};
        for (int size : sizes) {
            byte[] payload = new byte[size];
            random.nextBytes(payload);
            byte[] framed = ByteBuffer.allocate(4 + size).putInt(size).put(payload).array();
            Thread writer = new Thread(() -> {
                try {
                    java.io.OutputStream out = s.getOutputStream();
                    java.util.Random pieces = new java.util.Random(size);
                    for (int off = 0; off < framed.length; ) {
                        int n = Math.min(framed.length - off, 1 + pieces.nextInt(pieces.nextBoolean() ? 7 : 100_000));
                        out.write(framed, off, n);
                        out.flush();
                        off += n;
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            writer.start();
            RequestChannel.Request r = net.nextRequest();
            writer.join();
            assertArrayEquals(payload, bytes(r.frame()), "a " + size + "-byte frame");
            assertEquals(size, r.frame().capacity(), "the frame buffer holds exactly the frame");
            assertEquals(size, server.memoryPool().usedBytes(), "the pool holds exactly the frame");
            echo(r);
            assertEquals(size, readFrame(s).length);
        }
        await(() -> server.memoryPool().usedBytes() == 0, "every reservation returned");
    }

    @Test
    void shouldMuteReadsWhenThePoolIsExhaustedAndResumeWhenARequestIsDone() throws Exception {
        start(settings(1000, 1000));
        Socket big = net.connect();
        sendFrame(big, new byte[1000]);
        RequestChannel.Request held = net.nextRequest(); // the handler keeps it: its 1000 bytes stay reserved
        assertEquals(1000, server.memoryPool().usedBytes());

        Socket small = net.connect();
        sendFrame(small, "small");
        await(() -> server.connectionsWaitingForMemory() == 1, "the small request waits for memory");
        assertEquals(0, net.channel().size(), "nothing is read while the pool is empty");

        echo(held); // done with the big one: its memory goes back and the small one is read
        assertEquals(1000, readFrame(big).length);
        RequestChannel.Request next = net.nextRequest();
        assertArrayEquals("small".getBytes(StandardCharsets.UTF_8), bytes(next.frame()));
        echo(next);
        assertArrayEquals("small".getBytes(StandardCharsets.UTF_8), readFrame(small));
        await(() -> server.memoryPool().usedBytes() == 0, "every reservation returned");
        assertEquals(0, server.connectionsWaitingForMemory());
    }

    @Test
    void shouldGiveBackTheMemoryOfAFrameWhoseConnectionCloses() throws Exception {
        start(settings(1 << 20, 1 << 20));
        Socket s = net.connect();
        DataOutputStream out = new DataOutputStream(s.getOutputStream());
        out.writeInt(1 << 20);
        out.write(new byte[300_000]);
        out.flush();
        await(() -> server.memoryPool().usedBytes() >= 300_000, "the partial frame is held");
        s.close();
        await(() -> server.memoryPool().usedBytes() == 0, "the closed connection's bytes are returned");
    }

    @Test
    void shouldCloseAConnectionHoldingAPartialFrameLongerThanTheReadTimeout() throws Exception {
        start(settings(1 << 20, 1 << 20));
        Socket idleButComplete = net.connect();
        roundTrip(idleButComplete, "done");
        Socket stalled = net.connect();
        DataOutputStream out = new DataOutputStream(stalled.getOutputStream());
        out.writeInt(100);
        out.write(new byte[1]);
        out.flush();
        await(() -> server.memoryPool().usedBytes() == 1, "the first byte of the frame was read");

        time.advance(READ_TIMEOUT_MS + 1);
        assertTrue(closedByBroker(stalled), "a frame that takes longer than the read timeout closes its connection");
        await(() -> server.memoryPool().usedBytes() == 0, "its byte is returned");
        roundTrip(idleButComplete, "a connection between requests is not timed out by the read timeout");
    }

    @Test
    void shouldCloseAnIdleConnectionButNotOneWhoseRequestIsBeingHandled() throws Exception {
        start(settings(1 << 20, 1 << 20));
        Socket idle = net.connect();
        roundTrip(idle, "then nothing");
        Socket longPoll = net.connect();
        sendFrame(longPoll, "parked");
        RequestChannel.Request parked = net.nextRequest(); // like a fetch waiting in the purgatory

        time.advance(IDLE_MS + 1);
        assertTrue(closedByBroker(idle), "a connection idle past connections.max.idle.ms is closed");
        echo(parked);
        assertArrayEquals("parked".getBytes(StandardCharsets.UTF_8), readFrame(longPoll),
            "a connection whose request a handler holds is not idle");
    }

    @Test
    void shouldRefuseConnectionsOverThePerIpLimitAndAcceptAgainWhenOneCloses() throws Exception {
        start(settings(1024, 1024).withConnectionLimits(Integer.MAX_VALUE, 2));
        Socket first = net.connect();
        Socket second = net.connect();
        roundTrip(first, "1");
        roundTrip(second, "2");
        Socket third = net.connect();
        assertTrue(closedByBroker(third), "a third connection from the same IP is closed at accept");
        assertEquals(1, server.connectionQuotas().refusedConnections());

        first.close();
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        await(() -> server.connectionQuotas().connections(loopback) == 1, "the closed connection frees its slot");
        roundTrip(net.connect(), "accepted again");
        roundTrip(second, "the others were never disturbed");
    }

    @Test
    void shouldRefuseConnectionsOverTheTotalLimit() throws Exception {
        start(settings(1024, 1024).withConnectionLimits(1, Integer.MAX_VALUE));
        Socket only = net.connect();
        roundTrip(only, "1");
        assertTrue(closedByBroker(net.connect()), "a second connection is over max.connections");
        roundTrip(only, "still served");
    }
}
