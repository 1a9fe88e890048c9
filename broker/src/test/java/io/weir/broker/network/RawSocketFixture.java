package io.weir.broker.network;

import io.weir.common.Time;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A {@link SocketServer} on 127.0.0.1 (an ephemeral port) for the network tests that speak raw
 * length-prefixed frames over plain sockets: it owns the request channel, the server, an optional
 * request handler pool and every socket it connected, and {@link #close()} releases them all (call it from
 * the test's {@code @AfterEach}). Without a handler pool the test thread is the handler ({@link #nextRequest()}).
 * Used by one test thread; the frame helpers are static so that writer and reader threads may call them.
 */
final class RawSocketFixture implements AutoCloseable {
    static final String HANDLER_PREFIX = "test-handler-";

    private final RequestChannel channel;
    private final List<Socket> sockets = new ArrayList<>();
    private SocketServer server;
    private RequestHandlerPool handlers;

    RawSocketFixture(int queueSize) {
        this.channel = new RequestChannel(queueSize);
    }

    RequestChannel channel() {
        return channel;
    }

    SocketServer server() {
        return server;
    }

    /** Starts the server with {@code settings} on the system clock. */
    SocketServer start(SocketServer.Settings settings) throws IOException {
        return start(settings, Time.SYSTEM);
    }

    /** Starts the server with {@code settings} on {@code time}. */
    SocketServer start(SocketServer.Settings settings, Time time) throws IOException {
        server = new SocketServer("127.0.0.1", 0, settings, channel, time);
        server.start();
        return server;
    }

    /** Starts {@code threads} handler threads named {@link #HANDLER_PREFIX}N running {@code handler}. */
    RequestHandlerPool startHandlers(Consumer<RequestChannel.Request> handler, int threads) {
        return handlers(new RequestHandlerPool(channel, handler, threads, HANDLER_PREFIX));
    }

    /** Takes {@code pool} (built on {@link #channel()}) to shut down on {@link #close()}. */
    RequestHandlerPool handlers(RequestHandlerPool pool) {
        handlers = pool;
        return pool;
    }

    /** A socket connected to the server, with a 15 s read timeout, closed on {@link #close()}. */
    Socket connect() throws IOException {
        Socket s = new Socket("127.0.0.1", server.boundPort());
        s.setSoTimeout(15_000);
        sockets.add(s);
        return s;
    }

    /** The next request the network threads queued for the handler (the test thread), waiting up to 15 s. */
    RequestChannel.Request nextRequest() throws InterruptedException {
        RequestChannel.Request r = channel.poll(15_000);
        assertNotNull(r, "no request reached the handler queue");
        return r;
    }

    @Override
    public void close() throws IOException {
        for (Socket s : sockets) {
            s.close();
        }
        if (handlers != null) {
            handlers.shutdown(5_000);
        }
        if (server != null) {
            server.shutdown();
        }
    }

    /** Writes {@code payload} as one frame: its 4-byte length, then its bytes. */
    static void sendFrame(Socket s, byte[] payload) throws IOException {
        DataOutputStream out = new DataOutputStream(s.getOutputStream());
        out.writeInt(payload.length);
        out.write(payload);
        out.flush();
    }

    static void sendFrame(Socket s, String text) throws IOException {
        sendFrame(s, text.getBytes(StandardCharsets.UTF_8));
    }

    /** Reads one frame's payload. */
    static byte[] readFrame(Socket s) throws IOException {
        DataInputStream in = new DataInputStream(s.getInputStream());
        byte[] b = new byte[in.readInt()];
        in.readFully(b);
        return b;
    }

    static String readText(Socket s) throws IOException {
        return new String(readFrame(s), StandardCharsets.UTF_8);
    }

    /** Sends {@code text} and reads the answer, for a server whose handlers answer on their own. */
    static String exchange(Socket s, String text) throws IOException {
        sendFrame(s, text);
        return readText(s);
    }

    /** Answers {@code r} with its own frame. */
    static void echo(RequestChannel.Request r) {
        ByteBuffer frame = r.frame();
        ByteBuffer out = ByteBuffer.allocate(4 + frame.remaining());
        out.putInt(frame.remaining()).put(frame.duplicate()).flip();
        r.respond(new ByteBufferSend(out));
    }

    /** True once the broker has closed {@code s}: a read sees end of stream or a reset. */
    static boolean closedByBroker(Socket s) throws IOException {
        try {
            return s.getInputStream().read() < 0;
        } catch (SocketException reset) {
            return true;
        }
    }

    /** Waits (up to a minute, failing then) until {@code condition} holds. */
    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 60_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("never happened: " + what);
            }
            Thread.sleep(5);
        }
    }
}
