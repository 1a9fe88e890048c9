package io.weir.broker.testing;

import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.MessageCodec;
import io.weir.protocol.RequestHeader;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;

/**
 * One blocking connection to a broker for tests that send hand-built requests (a chosen API version, a field no
 * client would set), one at a time: each {@link #call} writes a frame, reads the answer and checks its correlation
 * id. Reads time out after 10 s, so a broker that never answers fails the test instead of hanging it. Not
 * thread-safe: one test thread.
 */
public final class RawConnection implements AutoCloseable {
    private static final int READ_TIMEOUT_MS = 10_000;
    private static final String CLIENT_ID = "raw";

    private final Socket socket;
    private final DataInputStream in;
    private int correlation;

    /** Connects to the broker listening on 127.0.0.1:{@code port}. */
    public RawConnection(int port) throws IOException {
        this.socket = new Socket("127.0.0.1", port);
        try {
            socket.setSoTimeout(READ_TIMEOUT_MS);
            this.in = new DataInputStream(socket.getInputStream());
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    /** Sends one request on a connection of its own and returns the answer's body. */
    public static ApiMessage callOnce(int port, ApiKeys api, short version, ApiMessage body) throws IOException {
        try (RawConnection c = new RawConnection(port)) {
            return c.call(api, version, body);
        }
    }

    /** Sends {@code body} as {@code api} v{@code version} and returns the answer's body. */
    public ApiMessage call(ApiKeys api, short version, ApiMessage body) throws IOException {
        int correlationId = ++correlation;
        ByteBuffer frame = MessageCodec.serializeRequest(RequestHeader.of(api, version, correlationId, CLIENT_ID), body);
        socket.getOutputStream().write(frame.array(), 0, frame.limit());
        byte[] resp = new byte[in.readInt()];
        in.readFully(resp);
        MessageCodec.ParsedResponse parsed = MessageCodec.parseResponse(api, version, ByteBuffer.wrap(resp));
        if (parsed.correlationId() != correlationId) {
            throw new AssertionError("answer to correlation id " + parsed.correlationId() + ", expected " + correlationId);
        }
        return parsed.body();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
