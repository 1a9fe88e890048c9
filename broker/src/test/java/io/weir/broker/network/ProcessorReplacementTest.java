package io.weir.broker.network;

import io.weir.common.Time;
import io.weir.common.testing.MockTime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.Socket;
import java.net.SocketException;
import java.util.concurrent.atomic.AtomicBoolean;

import static io.weir.broker.network.RawSocketFixture.exchange;
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
    private final Time time = new BreakingClock(mock,
        thread -> thread.startsWith("weir-network-") && failNetworkThreadOnce.compareAndSet(true, false));
    private final RawSocketFixture net = new RawSocketFixture(16);

    @AfterEach
    void stop() throws IOException {
        net.close();
    }

    @Test
    void shouldReplaceANetworkThreadThatDied() throws Exception {
        SocketServer server = net.start(SocketServer.Settings.defaults(1, 1024), time);
        net.startHandlers(RawSocketFixture::echo, 1);
        try (Socket before = net.connect()) {
            assertEquals("before", exchange(before, "before"));
            failNetworkThreadOnce.set(true);
            try {
                assertTrue(before.getInputStream().read() < 0, "the dying thread closes its connections");
            } catch (SocketException reset) {
                // closed as well
            }
        }
        try (Socket after = net.connect()) {
            assertEquals("after", exchange(after, "after"), "a replacement network thread serves new connections");
        }
        assertEquals(1, server.threadReplacements());
    }
}
