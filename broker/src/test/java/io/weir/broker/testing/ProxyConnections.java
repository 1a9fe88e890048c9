package io.weir.broker.testing;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.function.BiConsumer;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;

/**
 * What the test proxies between a client and a broker on loopback share: accepting client
 * connections and opening the matching broker connection (no Nagle on either side), handing each pair
 * to the proxy's relay.
 */
final class ProxyConnections {
    private ProxyConnections() {
    }

    /**
     * Accepts until {@code server} is closed or {@code closed} says so; for each client opens a
     * connection to the current {@code targetPort} (read per connection: the broker may have moved) on loopback (5 s connect timeout) and calls {@code relay} with
     * (client, upstream). A client whose upstream cannot be reached is dropped.
     */
    static void acceptLoop(ServerSocket server, IntSupplier targetPort, BooleanSupplier closed,
                           BiConsumer<Socket, Socket> relay) {
        while (!closed.getAsBoolean()) {
            Socket client;
            try {
                client = server.accept();
            } catch (IOException e) {
                return;
            }
            Socket upstream = new Socket();
            try {
                upstream.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort.getAsInt()), 5_000);
                client.setTcpNoDelay(true);
                upstream.setTcpNoDelay(true);
            } catch (IOException e) {
                closeQuietly(client);
                closeQuietly(upstream);
                continue;
            }
            relay.accept(client, upstream);
        }
    }

    static void closeQuietly(Closeable c) {
        try {
            c.close();
        } catch (IOException e) {
            // already gone
        }
    }
}
