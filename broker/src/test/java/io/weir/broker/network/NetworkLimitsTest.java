package io.weir.broker.network;

import io.weir.common.testing.MockTime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The network front's limits on a real socket, with a mock clock and the test thread as the
 * request handler: the request memory pool (only received bytes count; exhaustion mutes reads and a
 * release resumes them), the partial-frame and idle timeouts, and the connection limits.
 */
class NetworkLimitsTest {
    private static final long READ_TIMEOUT_MS = 30_000;
    private static final long IDLE_MS = 600_000;

    private final MockTime time = new MockTime();
    private final RequestChannel channel = new RequestChannel(64);
    private final List<Socket> sockets = new ArrayList<>();
    private SocketServer server;

    private SocketServer start(SocketServer.Settings settings) throws IOException {
        server = new SocketServer("127.0.0.1", 0, settings, channel, time);
        server.start();
        return server;
    }

    private static SocketServer.Settings settings(int maxRequestBytes, long poolBytes) {
        return SocketServer.Settings.defaults(1, maxRequestBytes).withQueuedMaxRequestBytes(poolBytes)
            .withTimeouts(READ_TIMEOUT_MS, IDLE_MS);
    }

    @AfterEach
    void stop() throws IOException {
        for (Socket s : sockets) {
            s.close();
        }
        if (server != null) {
            server.shutdown();
        }
    }

    private Socket connect() throws IOException {
        Socket s = new Socket("127.0.0.1", server.boundPort());
        s.setSoTimeout(15_000);
        sockets.add(s);
        return s;
    }

    private static void send(Socket s, byte[] payload) throws IOException {
        DataOutputStream out = new DataOutputStream(s.getOutputStream());
        out.writeInt(payload.length);
        out.write(payload);
        out.flush();
    }

    private static byte[] readFrame(Socket s) throws IOException {
        DataInputStream in = new DataInputStream(s.getInputStream());
        byte[] b = new byte[in.readInt()];
        in.readFully(b);
        return b;
    }

    private RequestChannel.Request nextRequest() throws InterruptedException {
        RequestChannel.Request r = channel.poll(15_000);
        assertNotNull(r, "no request reached the handler queue");
        return r;
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    private static void echo(RequestChannel.Request r) {
        ByteBuffer frame = r.frame();
        ByteBuffer out = ByteBuffer.allocate(4 + frame.remaining());
        out.putInt(frame.remaining()).put(frame.duplicate()).flip();
        r.respond(new ByteBufferSend(out));
    }

    /** One request/response on {@code s}, handled by the test thread. */
    private void roundTrip(Socket s, String text) throws IOException, InterruptedException {
        send(s, text.getBytes(StandardCharsets.UTF_8));
        echo(nextRequest());
        assertArrayEquals(text.getBytes(StandardCharsets.UTF_8), readFrame(s));
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("never happened: " + what);
            }
            Thread.sleep(5);
        }
    }

    /** True once the broker has closed {@code s}: a read sees end of stream or a reset. */
    private static boolean closedByBroker(Socket s) throws IOException {
        try {
            return s.getInputStream().read() < 0;
        } catch (SocketException reset) {
            return true;
        }
    }

    @Test
    void shouldHoldOnlyTheBytesReceivedOfStalledLargeFrames() throws Exception {
        int declared = 100 << 20;
        start(settings(declared, declared));
        for (int i = 0; i < 20; i++) {
            DataOutputStream out = new DataOutputStream(connect().getOutputStream());
            out.writeInt(declared);
            out.write(new byte[10]);
            out.flush();
        }
        await(() -> server.memoryPool().usedBytes() == 200, "20 stalled frames holding 10 bytes each");
        Socket healthy = connect();
        roundTrip(healthy, "still answering");
        assertEquals(200, server.memoryPool().usedBytes(), "the answered request gave its bytes back");
    }

    @Test
    void shouldReassembleFramesThatArriveInPiecesOfAnySize() throws Exception {
        start(settings(2 << 20, 2 << 20));
        Socket s = connect();
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
            RequestChannel.Request r = nextRequest();
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
        Socket big = connect();
        send(big, new byte[1000]);
        RequestChannel.Request held = nextRequest(); // the handler keeps it: its 1000 bytes stay reserved
        assertEquals(1000, server.memoryPool().usedBytes());

        Socket small = connect();
        send(small, "small".getBytes(StandardCharsets.UTF_8));
        await(() -> server.connectionsWaitingForMemory() == 1, "the small request waits for memory");
        assertEquals(0, channel.size(), "nothing is read while the pool is empty");

        echo(held); // done with the big one: its memory goes back and the small one is read
        assertEquals(1000, readFrame(big).length);
        RequestChannel.Request next = nextRequest();
        assertArrayEquals("small".getBytes(StandardCharsets.UTF_8), bytes(next.frame()));
        echo(next);
        assertArrayEquals("small".getBytes(StandardCharsets.UTF_8), readFrame(small));
        await(() -> server.memoryPool().usedBytes() == 0, "every reservation returned");
        assertEquals(0, server.connectionsWaitingForMemory());
    }

    @Test
    void shouldGiveBackTheMemoryOfAFrameWhoseConnectionCloses() throws Exception {
        start(settings(1 << 20, 1 << 20));
        Socket s = connect();
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
        Socket idleButComplete = connect();
        roundTrip(idleButComplete, "done");
        Socket stalled = connect();
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
        Socket idle = connect();
        roundTrip(idle, "then nothing");
        Socket longPoll = connect();
        send(longPoll, "parked".getBytes(StandardCharsets.UTF_8));
        RequestChannel.Request parked = nextRequest(); // like a fetch waiting in the purgatory

        time.advance(IDLE_MS + 1);
        assertTrue(closedByBroker(idle), "a connection idle past connections.max.idle.ms is closed");
        echo(parked);
        assertArrayEquals("parked".getBytes(StandardCharsets.UTF_8), readFrame(longPoll),
            "a connection whose request a handler holds is not idle");
    }

    @Test
    void shouldRefuseConnectionsOverThePerIpLimitAndAcceptAgainWhenOneCloses() throws Exception {
        start(settings(1024, 1024).withConnectionLimits(Integer.MAX_VALUE, 2));
        Socket first = connect();
        Socket second = connect();
        roundTrip(first, "1");
        roundTrip(second, "2");
        Socket third = connect();
        assertTrue(closedByBroker(third), "a third connection from the same IP is closed at accept");
        assertEquals(1, server.connectionQuotas().refusedConnections());

        first.close();
        InetAddress loopback = InetAddress.getByName("127.0.0.1");
        await(() -> server.connectionQuotas().connections(loopback) == 1, "the closed connection frees its slot");
        roundTrip(connect(), "accepted again");
        roundTrip(second, "the others were never disturbed");
    }

    @Test
    void shouldRefuseConnectionsOverTheTotalLimit() throws Exception {
        start(settings(1024, 1024).withConnectionLimits(1, Integer.MAX_VALUE));
        Socket only = connect();
        roundTrip(only, "1");
        assertTrue(closedByBroker(connect()), "a second connection is over max.connections");
        roundTrip(only, "still served");
    }
}
