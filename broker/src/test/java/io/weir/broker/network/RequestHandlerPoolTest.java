package io.weir.broker.network;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A request handler that throws (an Error included) fails only its request: the connection of that
 * request is closed, its memory is returned, and the same single handler thread serves the next
 * request; nothing needs replacing.
 */
class RequestHandlerPoolTest {
    private final RequestChannel channel = new RequestChannel(16);
    private SocketServer server;
    private RequestHandlerPool handlers;

    @AfterEach
    void stop() {
        if (handlers != null) {
            handlers.shutdown(5_000);
        }
        if (server != null) {
            server.shutdown();
        }
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

    private static void echo(RequestChannel.Request r) {
        ByteBuffer frame = r.frame();
        ByteBuffer out = ByteBuffer.allocate(4 + frame.remaining());
        out.putInt(frame.remaining()).put(frame.duplicate()).flip();
        r.respond(new ByteBufferSend(out));
    }

    private Socket connect() throws IOException {
        Socket s = new Socket("127.0.0.1", server.boundPort());
        s.setSoTimeout(15_000);
        return s;
    }

    private static void send(Socket s, String text) throws IOException {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        DataOutputStream out = new DataOutputStream(s.getOutputStream());
        out.writeInt(b.length);
        out.write(b);
        out.flush();
    }

    private static String read(Socket s) throws IOException {
        DataInputStream in = new DataInputStream(s.getInputStream());
        byte[] b = new byte[in.readInt()];
        in.readFully(b);
        return new String(b, StandardCharsets.UTF_8);
    }

    private static boolean closedByBroker(Socket s) throws IOException {
        try {
            return s.getInputStream().read() < 0;
        } catch (SocketException reset) {
            return true;
        }
    }

    @Test
    void shouldKeepServingAfterAHandlerThrowsAnyThrowable() throws Exception {
        server = new SocketServer("127.0.0.1", 0, 1, 1024, channel);
        server.start();
        handlers = new RequestHandlerPool(channel, RequestHandlerPoolTest::handle, 1, "test-handler-");
        for (String failing : new String[] {"oom", "stack", "npe"}) {
            try (Socket bad = connect(); Socket good = connect()) {
                send(bad, failing);
                assertTrue(closedByBroker(bad), failing + ": the failed request's connection is closed");
                send(good, "after " + failing);
                assertEquals("after " + failing, read(good), "the one handler thread still serves");
            }
        }
        try (Socket s = connect()) {
            send(s, "answered-then-error");
            assertEquals("answered-then-error", read(s));
            send(s, "and the connection stays usable");
            assertEquals("and the connection stays usable", read(s),
                "an error after the response does not close the connection");
        }
        assertEquals(0, handlers.threadReplacements());
        assertEquals(0, server.memoryPool().usedBytes(), "failed requests gave their memory back");
    }

    @Test
    void shouldAnswerAFailedRequestWithTheErrorResponseWhenOneCanBeBuilt() throws Exception {
        server = new SocketServer("127.0.0.1", 0, 1, 1024, channel);
        server.start();
        handlers = new RequestHandlerPool(channel, RequestHandlerPoolTest::handle, (request, error) -> {
            byte[] text = ("error: " + error.getClass().getSimpleName()).getBytes(StandardCharsets.UTF_8);
            return new ByteBufferSend(ByteBuffer.allocate(4 + text.length).putInt(text.length).put(text).flip());
        }, 1, "test-handler-");
        try (Socket s = connect()) {
            send(s, "stack");
            assertEquals("error: StackOverflowError", read(s));
            send(s, "oom");
            assertEquals("error: OutOfMemoryError", read(s));
            send(s, "then a good one");
            assertEquals("then a good one", read(s), "the connection stays open after an error response");
        }
        assertEquals(0, handlers.threadReplacements());
    }
}
