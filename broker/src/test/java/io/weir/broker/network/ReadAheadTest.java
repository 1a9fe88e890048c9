package io.weir.broker.network;

import io.weir.common.testing.MockTime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static io.weir.broker.network.RawSocketFixture.await;
import static io.weir.broker.network.RawSocketFixture.echo;
import static io.weir.broker.network.RawSocketFixture.readText;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Read-ahead ({@link SocketServer.Settings#readAheadFrames}): while one request of a connection is with a
 * handler, the next few are read and held (their memory reserved), handed over one at a time in order as
 * the responses before them leave; their memory comes back when the connection closes; a client that
 * closes its end still gets the answers to what it sent. The test thread is the handler.
 */
class ReadAheadTest {
    private final MockTime time = new MockTime();
    private final RawSocketFixture net = new RawSocketFixture(64);
    private SocketServer server;

    private void start(int readAheadFrames) throws IOException {
        start(SocketServer.Settings.defaults(1, 1024).withReadAheadFrames(readAheadFrames));
    }

    private void start(SocketServer.Settings settings) throws IOException {
        server = net.start(settings, time);
    }

    @AfterEach
    void stop() throws IOException {
        net.close();
    }

    /** Frames of 10 bytes each ("request-00" ...), all in one write. */
    private static void sendFrames(Socket s, int count) throws IOException {
        sendFrames(s, "request-%02d", count);
    }

    /** Frames of 10 bytes each ({@code format} applied to 0, 1, ...: "a-reqst-%02d", say), all in one write. */
    private static void sendFrames(Socket s, String format, int count) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(count * 14);
        for (int i = 0; i < count; i++) {
            b.putInt(10).put(String.format(format, i).getBytes(StandardCharsets.UTF_8));
        }
        s.getOutputStream().write(b.array());
        s.getOutputStream().flush();
    }

    private static String text(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return new String(out, StandardCharsets.UTF_8);
    }

    @Test
    void shouldReadAheadWhileARequestIsWithAHandlerAndHandThemOverOneAtATimeInOrder() throws Exception {
        start(4);
        Socket s = net.connect();
        sendFrames(s, 6);
        RequestChannel.Request first = net.nextRequest();
        assertEquals("request-00", text(first.frame()));
        // the first is with the handler: four more are read and held, the sixth waits in the socket
        await(() -> server.memoryPool().usedBytes() == 5 * 10, "four requests read ahead of the handler");
        assertEquals(0, net.channel().size(),
            "nothing more is handed over while a request of the connection is in flight");
        echo(first);
        for (int i = 1; i < 6; i++) {
            RequestChannel.Request r = net.nextRequest();
            assertEquals(String.format("request-%02d", i), text(r.frame()));
            assertEquals(0, net.channel().size(), "one at a time");
            echo(r);
        }
        for (int i = 0; i < 6; i++) {
            assertEquals(String.format("request-%02d", i), readText(s), "responses in request order");
        }
        await(() -> server.memoryPool().usedBytes() == 0, "every reservation returned");
    }

    @Test
    void shouldGiveBackTheMemoryOfReadAheadRequestsWhenTheConnectionCloses() throws Exception {
        start(4);
        Socket s = net.connect();
        sendFrames(s, 4);
        RequestChannel.Request held = net.nextRequest();
        await(() -> server.memoryPool().usedBytes() == 4 * 10, "three requests read ahead");
        s.setSoLinger(true, 0);
        s.close(); // a reset: the broker closes the connection and drops what it read ahead
        await(() -> server.memoryPool().usedBytes() == 10, "only the handler's request holds memory");
        echo(held); // its answer goes nowhere
        await(() -> server.memoryPool().usedBytes() == 0, "every reservation returned");
        assertEquals(0, net.channel().size(), "a closed connection's read-ahead requests are never handed over");
    }

    @Test
    void shouldAnswerWhatAClientSentBeforeClosingItsEnd() throws Exception {
        start(4);
        Socket s = net.connect();
        sendFrames(s, 3);
        s.shutdownOutput();
        for (int i = 0; i < 3; i++) {
            echo(net.nextRequest());
        }
        for (int i = 0; i < 3; i++) {
            assertEquals(String.format("request-%02d", i), readText(s));
        }
        assertEquals(-1, s.getInputStream().read(), "then the broker closes the connection");
        await(() -> server.memoryPool().usedBytes() == 0, "every reservation returned");
    }

    @Test
    void shouldReadNothingMoreWhileARequestIsInFlightWithReadAheadOff() throws Exception {
        start(0);
        Socket s = net.connect();
        sendFrames(s, 3);
        RequestChannel.Request first = net.nextRequest();
        assertEquals(10, server.memoryPool().usedBytes());
        echo(first);
        assertEquals("request-00", readText(s));
        echo(net.nextRequest());
        echo(net.nextRequest());
        assertEquals("request-01", readText(s));
        assertEquals("request-02", readText(s));
    }

    @Test
    void shouldLeaveMemoryForAnotherConnectionsRequestWhileConnectionsHoldRequestsReadAhead() throws Exception {
        // a pool of 4 requests; read-ahead leaves socket.request.max.bytes (2 requests) for next requests
        start(SocketServer.Settings.defaults(1, 20).withQueuedMaxRequestBytes(40).withReadAheadFrames(16));
        Socket a = net.connect();
        sendFrames(a, "a-reqst-%02d", 8);
        RequestChannel.Request firstOfA = net.nextRequest(); // held: a produce waiting for acks=all, say
        assertEquals("a-reqst-00", text(firstOfA.frame()));
        await(() -> server.connectionsWaitingForMemory() == 1, "a reads ahead until the pool stops it");
        Socket b = net.connect();
        sendFrames(b, "b-reqst-%02d", 8);
        await(() -> server.connectionsWaitingForMemory() == 2, "b reads until the pool stops it");

        // a third connection's request (a follower's fetch, say) is read and answered meanwhile
        Socket c = net.connect();
        sendFrames(c, "c-reqst-%02d", 1);
        List<RequestChannel.Request> held = new ArrayList<>();
        held.add(firstOfA);
        RequestChannel.Request fromC;
        while (true) {
            RequestChannel.Request r = net.nextRequest();
            if (text(r.frame()).startsWith("c-")) {
                fromC = r;
                break;
            }
            held.add(r);
        }
        assertEquals("c-reqst-00", text(fromC.frame()));
        echo(fromC);
        assertEquals("c-reqst-00", readText(c));

        // then a's and b's requests are all read and answered, in order
        for (RequestChannel.Request r : held) {
            echo(r);
        }
        for (int answered = held.size(); answered < 16; answered++) {
            echo(net.nextRequest());
        }
        for (int i = 0; i < 8; i++) {
            assertEquals(String.format("a-reqst-%02d", i), readText(a));
            assertEquals(String.format("b-reqst-%02d", i), readText(b));
        }
        await(() -> server.memoryPool().usedBytes() == 0, "every reservation returned");
        assertEquals(0, server.connectionsWaitingForMemory());
    }
}
