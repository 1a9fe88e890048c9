package io.weir.broker;

import io.weir.broker.testing.EmbeddedBroker;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * More JoinGroup length bombs (a protocol metadata field declaring 2 GiB in a 60-byte request) than
 * the broker has request-handler threads: each bomb's connection ends (answered with an error or
 * closed), and the same handler threads go on answering ApiVersions; none had to be replaced.
 * Before the fix each bomb's OutOfMemoryError killed a handler thread and the broker went silent.
 */
class BrokerThreadSurvivalTest {
    @Test
    void shouldKeepAnsweringAfterMoreLengthBombsThanHandlerThreads() throws Exception {
        try (EmbeddedBroker broker = new EmbeddedBroker(Map.of(BrokerConfig.NUM_IO_THREADS, "2")).start()) {
            for (int i = 0; i < 6; i++) {
                try (Socket s = connect(broker)) {
                    s.getOutputStream().write(joinGroupLengthBomb(i));
                    awaitAnswerOrClose(s); // a read timeout here means no handler is left to take the request
                }
            }
            try (Socket s = connect(broker)) {
                s.getOutputStream().write(apiVersionsV0(99));
                DataInputStream in = new DataInputStream(s.getInputStream());
                ByteBuffer response = ByteBuffer.wrap(in.readNBytes(in.readInt()));
                assertEquals(99, response.getInt());
                assertEquals(0, response.getShort(), "ApiVersions error code");
            }
            assertEquals(0, broker.broker().threadReplacements());
        }
    }

    private static Socket connect(EmbeddedBroker broker) throws IOException {
        Socket s = new Socket("127.0.0.1", broker.port());
        s.setSoTimeout(15_000);
        return s;
    }

    /** Returns once the broker answers or closes the connection; throws SocketTimeoutException if it does neither. */
    private static void awaitAnswerOrClose(Socket s) throws IOException {
        try {
            s.getInputStream().read();
        } catch (SocketException reset) {
            // closed: fine
        }
    }

    private static ByteBuffer header(int apiKey, int correlationId) {
        ByteBuffer b = ByteBuffer.allocate(256);
        b.putInt(0).putShort((short) apiKey).putShort((short) 0).putInt(correlationId);
        putString(b, "bomb");
        return b;
    }

    private static void putString(ByteBuffer b, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        b.putShort((short) bytes.length).put(bytes);
    }

    private static byte[] finish(ByteBuffer b) {
        b.putInt(0, b.position() - 4);
        byte[] out = new byte[b.position()];
        b.flip().get(out);
        return out;
    }

    private static byte[] apiVersionsV0(int correlationId) {
        return finish(header(18, correlationId));
    }

    private static byte[] joinGroupLengthBomb(int correlationId) {
        ByteBuffer b = header(11, correlationId);
        putString(b, "g");
        b.putInt(10_000);
        putString(b, "");
        putString(b, "consumer");
        b.putInt(1);
        putString(b, "range");
        b.putInt(Integer.MAX_VALUE).putInt(0);
        return finish(b);
    }
}
