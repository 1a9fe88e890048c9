package io.weir.broker.zk;

import io.weir.broker.metadata.BrokerRegistration;
import io.weir.common.testing.MockTime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link BrokerLivenessProbe} driven pass by pass on the test's thread, against real loopback sockets, on a mock
 * clock: what counts as a dead broker (connections refused for the whole timeout after it was reached) and what
 * does not.
 */
class BrokerLivenessProbeTest {
    private static final long TIMEOUT_MS = 200;

    private final MockTime time = new MockTime();
    private final List<String> fenced = new ArrayList<>();
    private final BrokerLivenessProbe probe = new BrokerLivenessProbe(0, TIMEOUT_MS, time,
        (id, epoch, reason) -> fenced.add(id + "@" + epoch));

    @AfterEach
    void close() {
        probe.close();
    }

    private static ServerSocketChannel listen() throws IOException {
        ServerSocketChannel server = ServerSocketChannel.open();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        return server;
    }

    private static BrokerRegistration registration(int id, int port, long epoch) {
        return new BrokerRegistration(id, "127.0.0.1", port, null, List.of("PLAINTEXT://127.0.0.1:" + port), epoch);
    }

    /** Runs passes, the mock clock moving {@code stepMs} after each, until {@code fenced} is not empty or {@code passes} ran. */
    private void run(int passes, long stepMs) throws IOException {
        for (int i = 0; i < passes && fenced.isEmpty(); i++) {
            probe.doWork(time.milliseconds());
            time.sleep(stepMs);
        }
    }

    private void runUntilSeenAlive(int brokerId) throws IOException {
        for (int i = 0; i < 1_000 && !probe.hasSeenAlive(brokerId); i++) {
            probe.doWork(time.milliseconds());
        }
        assertTrue(probe.hasSeenAlive(brokerId), "the probe reached broker " + brokerId);
    }

    @Test
    void shouldReportABrokerWhoseListenerRefusesConnectionsForTheTimeoutAfterItWasReached() throws IOException {
        ServerSocketChannel server = listen();
        int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
        probe.watch(List.of(registration(1, port, 7), registration(0, 1, 1))); // itself: never probed
        runUntilSeenAlive(1);
        SocketChannel accepted = server.accept();

        server.close(); // the process is gone: its connection closes and its port refuses connections
        accepted.close();
        long goneMs = time.milliseconds();
        run(100, 50);

        assertEquals(List.of("1@7"), fenced, "reported once, under the registration it watched");
        assertTrue(time.milliseconds() - goneMs >= TIMEOUT_MS, "not before the liveness timeout on the probe's clock");
        run(40, 50);
        assertEquals(1, fenced.size(), "a registration is reported once");
    }

    @Test
    void shouldNotReportABrokerItNeverReached() throws IOException {
        ServerSocketChannel closed = listen();
        int port = ((InetSocketAddress) closed.getLocalAddress()).getPort();
        closed.close(); // nothing listens there: maybe an address this controller cannot reach
        probe.watch(List.of(registration(1, port, 7)));

        run(100, 50); // five liveness timeouts of refusals

        assertFalse(probe.hasSeenAlive(1));
        assertTrue(fenced.isEmpty(), "refusals from a broker never reached are no evidence of a death: " + fenced);
    }

    @Test
    void shouldNotReportABrokerWhoseListenerAcceptsAgainWithinTheTimeout() throws IOException {
        ServerSocketChannel server = listen();
        int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
        probe.watch(List.of(registration(1, port, 7)));
        runUntilSeenAlive(1);
        SocketChannel accepted = server.accept();
        server.close();
        accepted.close();
        run(2, 50); // refused for a while, less than the timeout

        try (ServerSocketChannel back = ServerSocketChannel.open()) {
            back.setOption(java.net.StandardSocketOptions.SO_REUSEADDR, true);
            back.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port)); // listening again
            run(4, 300); // connected again: each pass waits for I/O (real time), so few long steps
            assertTrue(fenced.isEmpty(), "a listener that accepts again resets the window: " + fenced);
        }
    }

    @Test
    void shouldProbeANewRegistrationOfABrokerAfresh() throws IOException {
        ServerSocketChannel server = listen();
        int port = ((InetSocketAddress) server.getLocalAddress()).getPort();
        probe.watch(List.of(registration(1, port, 7)));
        runUntilSeenAlive(1);
        probe.watch(List.of(registration(1, port, 8))); // registered again (a restart, a new session)
        server.close(); // ... and gone before this probe reached the new registration

        run(40, 50);

        assertFalse(probe.hasSeenAlive(1));
        assertTrue(fenced.isEmpty(), "the earlier registration's contact does not vouch for the new one: " + fenced);
    }
}
