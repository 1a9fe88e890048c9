package io.weir.protocol.client;

import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.MessageCodec;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.message.ApiVersionsResponse;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tiny broker stand-in for client tests: a real {@link ServerSocket} on 127.0.0.1 with an
 * ephemeral port, one blocking thread per connection, frames parsed and written with the real
 * {@link MessageCodec}. ApiVersions is answered from {@link ApiKeys} unless the handler answers it.
 * The handler returns the response body, {@link #NO_RESPONSE} to stay silent, or {@link #CLOSE} to
 * drop the connection. Test-only; close it in the test.
 */
public final class FakeBroker implements AutoCloseable {
    /** Handler result: send nothing (the client's request timeout will fire). */
    public static final ApiMessage NO_RESPONSE = new ApiVersionsResponse();
    /** Handler result: close the connection. */
    public static final ApiMessage CLOSE = new ApiVersionsResponse();
    /** Handler result: write raw bytes instead of a frame (see {@link #rawReply}). */
    public static final ApiMessage RAW = new ApiVersionsResponse();

    /** Answers one request. */
    @FunctionalInterface
    public interface Handler {
        ApiMessage handle(RequestHeader header, ApiMessage request, int connectionIndex);
    }

    /** A request as received. */
    public record Received(RequestHeader header, ApiMessage body, int connectionIndex) {
    }

    private final ServerSocket server;
    private final Thread acceptor;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final List<Received> received = new CopyOnWriteArrayList<>();
    private final AtomicInteger connections = new AtomicInteger();
    private volatile Handler handler;
    private volatile byte[] rawReply = new byte[0];

    public FakeBroker(Handler handler) throws IOException {
        this.handler = handler;
        this.server = new ServerSocket();
        server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        this.acceptor = new Thread(this::acceptLoop, "fake-broker-acceptor");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public int port() {
        return server.getLocalPort();
    }

    public Node node(int id) {
        return new Node(id, "127.0.0.1", port());
    }

    public void handler(Handler h) {
        this.handler = h;
    }

    public void rawReply(byte[] bytes) {
        this.rawReply = bytes;
    }

    public List<Received> received() {
        return new ArrayList<>(received);
    }

    /** Requests of one API received so far. */
    public List<Received> received(ApiKeys api) {
        List<Received> out = new ArrayList<>();
        for (Received r : received) {
            if (r.header().apiKey() == api.id()) {
                out.add(r);
            }
        }
        return out;
    }

    public int connectionCount() {
        return connections.get();
    }

    /** The ApiVersions response advertising every API in {@link ApiKeys}. */
    public static ApiVersionsResponse allVersions() {
        List<ApiVersionsResponse.ApiVersion> list = new ArrayList<>();
        for (ApiKeys k : ApiKeys.values()) {
            list.add(new ApiVersionsResponse.ApiVersion().setApiKey(k.id()).setMinVersion(k.lowestVersion())
                .setMaxVersion(k.highestVersion()));
        }
        return new ApiVersionsResponse().setApiKeys(list);
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                sockets.add(s);
                int index = connections.getAndIncrement();
                Thread t = new Thread(() -> serve(s, index), "fake-broker-conn-" + index);
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket s, int index) {
        try (s) {
            DataInputStream in = new DataInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            while (true) {
                int size = in.readInt();
                byte[] frame = new byte[size];
                in.readFully(frame);
                MessageCodec.ParsedRequest req = MessageCodec.parseRequest(ByteBuffer.wrap(frame));
                received.add(new Received(req.header(), req.body(), index));
                ApiMessage resp = handler.handle(req.header(), req.body(), index);
                if (resp == null && req.header().apiKey() == ApiKeys.API_VERSIONS.id()) {
                    resp = allVersions();
                }
                if (resp == null || resp == NO_RESPONSE) {
                    continue;
                }
                if (resp == CLOSE) {
                    return;
                }
                if (resp == RAW) {
                    out.write(rawReply);
                    out.flush();
                    continue;
                }
                ByteBuffer buf = MessageCodec.serializeResponse(req.header(), resp);
                out.write(buf.array(), buf.arrayOffset(), buf.remaining());
                out.flush();
            }
        } catch (EOFException e) {
            // client closed
        } catch (IOException e) {
            // socket closed by close()
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
        try {
            acceptor.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
