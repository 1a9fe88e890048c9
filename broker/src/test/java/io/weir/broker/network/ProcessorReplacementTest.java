package io.weir.broker.network;

import io.weir.common.Time;
import io.weir.common.testing.MockTime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A network thread killed by an error outside any one connection (here: its clock throws) closes
 * its connections, and the acceptor's watchdog starts a fresh network thread that serves new
 * connections; the replacement is counted.
 */
class ProcessorReplacementTest {
    private final MockTime mock = new MockTime();
    private final AtomicBoolean failNetworkThreadOnce = new AtomicBoolean();
    private final Time time = new Time() {
        @Override
        public long milliseconds() {
            return mock.milliseconds();
        }

        @Override
        public long nanoseconds() {
            if (Thread.currentThread().getName().startsWith("weir-network-")
                && failNetworkThreadOnce.compareAndSet(true, false)) {
                throw new InternalError("the network thread's clock broke (thrown by the test)");
            }
            return mock.nanoseconds();
        }

        @Override
        public void sleep(long ms) {
            mock.sleep(ms);
        }
    };
    private final RequestChannel channel = new RequestChannel(16);
    private SocketServer server;
    private RequestHandlerPool handlers;

    @AfterEach
    void stop() {
        handlers.shutdown(5_000);
        server.shutdown();
    }

    private static void echo(RequestChannel.Request r) {
        ByteBuffer frame = r.frame();
        ByteBuffer out = ByteBuffer.allocate(4 + frame.remaining());
        out.putInt(frame.remaining()).put(frame.duplicate()).flip();
        r.respond(new ByteBufferSend(out));
    }

    private String roundTrip(Socket s, String text) throws IOException {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        DataOutputStream out = new DataOutputStream(s.getOutputStream());
        out.writeInt(b.length);
        out.write(b);
        out.flush();
        DataInputStream in = new DataInputStream(s.getInputStream());
        byte[] answer = new byte[in.readInt()];
        in.readFully(answer);
        return new String(answer, StandardCharsets.UTF_8);
    }

    private Socket connect() throws IOException {
        Socket s = new Socket("127.0.0.1", server.boundPort());
        s.setSoTimeout(15_000);
        return s;
    }

    @Test
    void shouldReplaceANetworkThreadThatDied() throws Exception {
        server = new SocketServer("127.0.0.1", 0, SocketServer.Settings.defaults(1, 1024), channel, time);
        server.start();
        handlers = new RequestHandlerPool(channel, ProcessorReplacementTest::echo, 1, "test-handler-");
        try (Socket before = connect()) {
            assertEquals("before", roundTrip(before, "before"));
            failNetworkThreadOnce.set(true);
            try {
                assertTrue(before.getInputStream().read() < 0, "the dying thread closes its connections");
            } catch (SocketException reset) {
                // closed as well
            }
        }
        try (Socket after = connect()) {
            assertEquals("after", roundTrip(after, "after"), "a replacement network thread serves new connections");
        }
        assertEquals(1, server.threadReplacements());
    }
}
