package io.weir.broker;

import io.weir.broker.testing.EmbeddedBroker;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.MessageCodec;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.internals.ProtocolWriter;
import io.weir.protocol.message.ApiVersionsRequest;
import io.weir.protocol.message.ApiVersionsResponse;
import io.weir.protocol.message.JoinGroupResponse;
import io.weir.protocol.message.MetadataRequest;
import io.weir.protocol.message.MetadataResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Raw-socket regressions for requests that are not exactly well formed: bytes after a well-formed
 * body are ignored (librdkafka 2.15's Metadata v13), a malformed body whose header parsed is answered
 * with INVALID_REQUEST where the response has a top-level error code, and a length bomb never costs
 * the broker a request-handler thread.
 */
class BrokerMalformedRequestTest {
    private EmbeddedBroker broker;

    @BeforeEach
    void start() {
        broker = new EmbeddedBroker().start();
    }

    @AfterEach
    void stop() {
        broker.close();
    }

    private Socket connect() throws IOException {
        Socket s = new Socket("127.0.0.1", broker.port());
        s.setSoTimeout(10_000);
        return s;
    }

    /** Sends {@code header + body + extra zero bytes} as one frame. */
    private static void send(Socket s, RequestHeader header, ApiMessage body, int extra) throws IOException {
        int size = header.size() + body.size(header.apiVersion()) + extra;
        ByteBuffer frame = ByteBuffer.allocate(4 + size).putInt(size);
        ProtocolWriter w = new ProtocolWriter(frame);
        header.write(w);
        body.write(w, header.apiVersion());
        frame.put(new byte[extra]);
        sendRaw(s, frame.array());
    }

    private static void sendRaw(Socket s, byte[] frame) throws IOException {
        s.getOutputStream().write(frame);
        s.getOutputStream().flush();
    }

    private static ByteBuffer receive(Socket s) throws IOException {
        DataInputStream in = new DataInputStream(s.getInputStream());
        byte[] resp = new byte[in.readInt()];
        in.readFully(resp);
        return ByteBuffer.wrap(resp);
    }

    private static void assertConnectionUsable(Socket s, int correlationId) throws IOException {
        RequestHeader h = RequestHeader.of(ApiKeys.API_VERSIONS, (short) 3, correlationId, "t");
        send(s, h, new ApiVersionsRequest().setClientSoftwareName("t").setClientSoftwareVersion("1"), 0);
        MessageCodec.ParsedResponse r = MessageCodec.parseResponse(ApiKeys.API_VERSIONS, (short) 3, receive(s));
        assertEquals(correlationId, r.correlationId());
        assertEquals(Errors.NONE.code(), ((ApiVersionsResponse) r.body()).errorCode());
    }

    @Test
    void shouldIgnoreThreeTrailingZeroBytesAfterMetadataV13() throws IOException {
        try (Socket s = connect()) {
            RequestHeader h = RequestHeader.of(ApiKeys.METADATA, (short) 13, 21, "rdkafka");
            send(s, h, new MetadataRequest().setTopics(null).setAllowAutoTopicCreation(false), 3);
            MessageCodec.ParsedResponse r = MessageCodec.parseResponse(ApiKeys.METADATA, (short) 13, receive(s));
            assertEquals(21, r.correlationId());
            MetadataResponse body = (MetadataResponse) r.body();
            assertEquals(1, body.brokers().size());
            assertEquals(broker.port(), body.brokers().get(0).port());
            assertConnectionUsable(s, 22);
        }
    }

    /** JoinGroup v0 whose protocol metadata declares 0x7fffffff bytes and brings four. */
    private static byte[] joinGroupLengthBomb(int correlationId) {
        ByteBuffer frame = ByteBuffer.allocate(128).putInt(0);
        ProtocolWriter w = new ProtocolWriter(frame);
        RequestHeader.of(ApiKeys.JOIN_GROUP, (short) 0, correlationId, "hostile").write(w);
        w.writeString("group", false);
        w.writeInt32(10_000);
        w.writeString("", false);
        w.writeString("consumer", false);
        w.writeArrayLength(1, false);
        w.writeString("range", false);
        w.writeInt32(0x7fffffff);
        frame.put(new byte[] {1, 2, 3, 4});
        frame.putInt(0, frame.position() - 4);
        byte[] out = new byte[frame.position()];
        frame.flip().get(out);
        return out;
    }

    @Test
    void shouldAnswerLengthBombsWithInvalidRequestAndKeepServing() throws IOException {
        // more bombs than the broker has request-handler threads: each is answered, none costs a thread
        try (Socket s = connect()) {
            for (int i = 0; i < 20; i++) {
                sendRaw(s, joinGroupLengthBomb(100 + i));
                MessageCodec.ParsedResponse r = MessageCodec.parseResponse(ApiKeys.JOIN_GROUP, (short) 0, receive(s));
                assertEquals(100 + i, r.correlationId());
                assertEquals(Errors.INVALID_REQUEST.code(), ((JoinGroupResponse) r.body()).errorCode());
            }
            assertConnectionUsable(s, 200);
        }
        try (Socket fresh = connect()) {
            assertConnectionUsable(fresh, 201);
        }
    }

    @Test
    void shouldCloseTheConnectionWhenTheApiHasNoTopLevelErrorCode() throws IOException {
        // Metadata v1 whose topics array declares 5 names and brings none: Metadata has no top-level error code
        ByteBuffer frame = ByteBuffer.allocate(64).putInt(0);
        RequestHeader.of(ApiKeys.METADATA, (short) 1, 31, "t").write(new ProtocolWriter(frame));
        frame.putInt(5);
        frame.putInt(0, frame.position() - 4);
        byte[] bytes = new byte[frame.position()];
        frame.flip().get(bytes);
        try (Socket s = connect()) {
            sendRaw(s, bytes);
            assertTrue(closedByBroker(s));
        }
        try (Socket fresh = connect()) {
            assertConnectionUsable(fresh, 32);
        }
    }

    private static boolean closedByBroker(Socket s) {
        try {
            return s.getInputStream().read() < 0;
        } catch (IOException e) {
            return true;
        }
    }
}
