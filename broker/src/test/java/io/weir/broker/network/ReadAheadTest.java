package io.weir.broker.network;

import io.weir.common.testing.MockTime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Read-ahead ({@link SocketServer.Settings#readAheadFrames}): while one request of a connection is with a
 * handler, the next few are read and held (their memory reserved), handed over one at a time in order as
 * the responses before them leave; their memory comes back when the connection closes; a client that
 * closes its end still gets the answers to what it sent. The test thread is the handler.
 */
class ReadAheadTest {
    private final MockTime time = new MockTime();
    private final RequestChannel channel = new RequestChannel(64);
    private final List<Socket> sockets = new ArrayList<>();
    private SocketServer server;

    private void start(int readAheadFrames) throws IOException {
        start(SocketServer.Settings.defaults(1, 1024).withReadAheadFrames(readAheadFrames));
    }

    private void start(SocketServer.Settings settings) throws IOException {
        server = new SocketServer("127.0.0.1", 0, settings, channel, time);
        server.start();
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

    /** Frames of 10 bytes each ("request-0" ... padded), all in one write. */
    private static void sendFrames(Socket s, int count) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(count * 14);
        for (int i = 0; i < count; i++) {
            b.putInt(10).put(String.format("request-%02d", i).substring(0, 10).getBytes(StandardCharsets.UTF_8));
        }
        s.getOutputStream().write(b.array());
        s.getOutputStream().flush();
    }

    /** Frames of 10 bytes each ("a-reqst-00" ... for name "a"), all in one write. */
    private static void sendFrames(Socket s, String name, int count) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(count * 14);
        for (int i = 0; i < count; i++) {
            b.putInt(10).put(String.format("%s-reqst-%02d", name, i).getBytes(StandardCharsets.UTF_8));
        }
        s.getOutputStream().write(b.array());
        s.getOutputStream().flush();
    }

    private static String text(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return new String(out, StandardCharsets.UTF_8);
    }

    private RequestChannel.Request nextRequest() throws InterruptedException {
        RequestChannel.Request r = channel.poll(15_000);
        assertNotNull(r, "no request reached the handler queue");
        return r;
    }

    private static void echo(RequestChannel.Request r) {
        ByteBuffer frame = r.frame();
        ByteBuffer out = ByteBuffer.allocate(4 + frame.remaining());
        out.putInt(frame.remaining()).put(frame.duplicate()).flip();
        r.respond(new ByteBufferSend(out));
    }

    private static String readFrame(Socket s) throws IOException {
        DataInputStream in = new DataInputStream(s.getInputStream());
        byte[] b = new byte[in.readInt()];
        in.readFully(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("never happened: " + what);
            }
            Thread.sleep(5);
        }
    }

    @Test
    void shouldReadAheadWhileARequestIsWithAHandlerAndHandThemOverOneAtATimeInOrder() throws Exception {
        start(4);
        Socket s = connect();
        sendFrames(s, 6);
        RequestChannel.Request first = nextRequest();
        assertEquals("request-00", text(first.frame()));
        // the first is with the handler: four more are read and held, the sixth waits in the socket
        await(() -> server.memoryPool().usedBytes() == 5 * 10, "four requests read ahead of the handler");
        assertEquals(0, channel.size(), "nothing more is handed over while a request of the connection is in flight");
        echo(first);
        for (int i = 1; i < 6; i++) {
            RequestChannel.Request r = nextRequest();
            assertEquals(String.format("request-%02d", i), text(r.frame()));
            assertEquals(0, channel.size(), "one at a time");
            echo(r);
        }
        for (int i = 0; i < 6; i++) {
            assertEquals(String.format("request-%02d", i), readFrame(s), "responses in request order");
        }
        await(() -> server.memoryPool().usedBytes() == 0, "every reservation returned");
    }

    @Test
    void shouldGiveBackTheMemoryOfReadAheadRequestsWhenTheConnectionCloses() throws Exception {
        start(4);
        Socket s = connect();
        sendFrames(s, 4);
        RequestChannel.Request held = nextRequest();
        await(() -> server.memoryPool().usedBytes() == 4 * 10, "three requests read ahead");
        s.setSoLinger(true, 0);
        s.close(); // a reset: the broker closes the connection and drops what it read ahead
        await(() -> server.memoryPool().usedBytes() == 10, "only the handler's request holds memory");
        echo(held); // its answer goes nowhere
        await(() -> server.memoryPool().usedBytes() == 0, "every reservation returned");
        assertEquals(0, channel.size(), "a closed connection's read-ahead requests are never handed over");
    }

    @Test
    void shouldAnswerWhatAClientSentBeforeClosingItsEnd() throws Exception {
        start(4);
        Socket s = connect();
        sendFrames(s, 3);
        s.shutdownOutput();
        for (int i = 0; i < 3; i++) {
            echo(nextRequest());
        }
        for (int i = 0; i < 3; i++) {
            assertEquals(String.format("request-%02d", i), readFrame(s));
        }
        assertEquals(-1, s.getInputStream().read(), "then the broker closes the connection");
        await(() -> server.memoryPool().usedBytes() == 0, "every reservation returned");
    }

    @Test
    void shouldReadNothingMoreWhileARequestIsInFlightWithReadAheadOff() throws Exception {
        start(0);
        Socket s = connect();
        sendFrames(s, 3);
        RequestChannel.Request first = nextRequest();
        assertEquals(10, server.memoryPool().usedBytes());
        echo(first);
        assertEquals("request-00", readFrame(s));
        echo(nextRequest());
        echo(nextRequest());
        assertEquals("request-01", readFrame(s));
        assertEquals("request-02", readFrame(s));
    }

    @Test
    void shouldLeaveMemoryForAnotherConnectionsRequestWhileConnectionsHoldRequestsReadAhead() throws Exception {
        // a pool of 4 requests; read-ahead leaves socket.request.max.bytes (2 requests) for next requests
        start(SocketServer.Settings.defaults(1, 20).withQueuedMaxRequestBytes(40).withReadAheadFrames(16));
        Socket a = connect();
        sendFrames(a, "a", 8);
        RequestChannel.Request firstOfA = nextRequest(); // held: a produce waiting for acks=all, say
        assertEquals("a-reqst-00", text(firstOfA.frame()));
        await(() -> server.connectionsWaitingForMemory() == 1, "a reads ahead until the pool stops it");
        Socket b = connect();
        sendFrames(b, "b", 8);
        await(() -> server.connectionsWaitingForMemory() == 2, "b reads until the pool stops it");

        // a third connection's request (a follower's fetch, say) is read and answered meanwhile
        Socket c = connect();
        sendFrames(c, "c", 1);
        List<RequestChannel.Request> held = new ArrayList<>();
        held.add(firstOfA);
        RequestChannel.Request fromC;
        while (true) {
            RequestChannel.Request r = nextRequest();
            if (text(r.frame()).startsWith("c-")) {
                fromC = r;
                break;
            }
            held.add(r);
        }
        assertEquals("c-reqst-00", text(fromC.frame()));
        echo(fromC);
        assertEquals("c-reqst-00", readFrame(c));

        // then a's and b's requests are all read and answered, in order
        for (RequestChannel.Request r : held) {
            echo(r);
        }
        for (int answered = held.size(); answered < 16; answered++) {
            echo(nextRequest());
        }
        for (int i = 0; i < 8; i++) {
            assertEquals(String.format("a-reqst-%02d", i), readFrame(a));
            assertEquals(String.format("b-reqst-%02d", i), readFrame(b));
        }
        await(() -> server.memoryPool().usedBytes() == 0, "every reservation returned");
        assertEquals(0, server.connectionsWaitingForMemory());
    }
}
