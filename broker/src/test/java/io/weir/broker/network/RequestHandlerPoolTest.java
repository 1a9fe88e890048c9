package io.weir.broker.network;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static io.weir.broker.network.RawSocketFixture.closedByBroker;
import static io.weir.broker.network.RawSocketFixture.echo;
import static io.weir.broker.network.RawSocketFixture.readText;
import static io.weir.broker.network.RawSocketFixture.sendFrame;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A request handler that throws (an Error included) fails only its request: the connection of that
 * request is closed, its memory is returned, and the same single handler thread serves the next
 * request; nothing needs replacing.
 */
class RequestHandlerPoolTest {
    private final RawSocketFixture net = new RawSocketFixture(16);

    @AfterEach
    void stop() throws IOException {
        net.close();
    }

    private static int depth(int n) {
        return n + depth(n + 1); // a StackOverflowError, as a runaway recursive decoder would throw
    }

    private static void handle(RequestChannel.Request r) {
        String text = StandardCharsets.UTF_8.decode(r.frame().duplicate()).toString();
        switch (text) {
            case "oom" -> throw new OutOfMemoryError("Java heap space (thrown by the test)");
            case "stack" -> depth(0);
            case "npe" -> throw new NullPointerException("a handler bug");
            case "answered-then-error" -> {
                echo(r);
                throw new AssertionError("after the response");
            }
            default -> echo(r);
        }
    }

    @Test
    void shouldKeepServingAfterAHandlerThrowsAnyThrowable() throws Exception {
        SocketServer server = net.start(SocketServer.Settings.defaults(1, 1024));
        RequestHandlerPool handlers = net.startHandlers(RequestHandlerPoolTest::handle, 1);
        for (String failing : new String[] {"oom", "stack", "npe"}) {
            try (Socket bad = net.connect(); Socket good = net.connect()) {
                sendFrame(bad, failing);
                assertTrue(closedByBroker(bad), failing + ": the failed request's connection is closed");
                sendFrame(good, "after " + failing);
                assertEquals("after " + failing, readText(good), "the one handler thread still serves");
            }
        }
        try (Socket s = net.connect()) {
            sendFrame(s, "answered-then-error");
            assertEquals("answered-then-error", readText(s));
            sendFrame(s, "and the connection stays usable");
            assertEquals("and the connection stays usable", readText(s),
                "an error after the response does not close the connection");
        }
        assertEquals(0, handlers.threadReplacements());
        assertEquals(0, server.memoryPool().usedBytes(), "failed requests gave their memory back");
    }

    @Test
    void shouldAnswerAFailedRequestWithTheErrorResponseWhenOneCanBeBuilt() throws Exception {
        net.start(SocketServer.Settings.defaults(1, 1024));
        RequestHandlerPool handlers = net.handlers(new RequestHandlerPool(net.channel(), RequestHandlerPoolTest::handle,
            (request, error) -> {
                byte[] text = ("error: " + error.getClass().getSimpleName()).getBytes(StandardCharsets.UTF_8);
                return new ByteBufferSend(ByteBuffer.allocate(4 + text.length).putInt(text.length).put(text).flip());
            }, 1, RawSocketFixture.HANDLER_PREFIX));
        try (Socket s = net.connect()) {
            sendFrame(s, "stack");
            assertEquals("error: StackOverflowError", readText(s));
            sendFrame(s, "oom");
            assertEquals("error: OutOfMemoryError", readText(s));
            sendFrame(s, "then a good one");
            assertEquals("then a good one", readText(s), "the connection stays open after an error response");
        }
        assertEquals(0, handlers.threadReplacements());
    }
}
