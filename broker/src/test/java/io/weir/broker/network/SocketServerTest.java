package io.weir.broker.network;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.util.concurrent.ThreadLocalRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Frames, limits and ordering of the network layer, with an echo handler on a real socket. */
class SocketServerTest {
    private SocketServer server;
    private Thread handler;
    private volatile boolean running = true;

    @BeforeEach
    void start() throws IOException {
        RequestChannel channel = new RequestChannel(16);
        server = new SocketServer("127.0.0.1", 0, 2, 1024, channel);
        server.start();
        handler = new Thread(() -> {
            while (running) {
                try {
                    RequestChannel.Request r = channel.poll(100);
                    if (r == null) {
                        continue;
                    }
                    ByteBuffer frame = r.frame();
                    if (frame.remaining() > 0 && frame.get(0) == 'Z') {
                        r.noResponse();
                        continue;
                    }
                    // answer slowly at random, so an out-of-order bug would show
                    Thread.sleep(ThreadLocalRandom.current().nextInt(3));
                    ByteBuffer out = ByteBuffer.allocate(4 + frame.remaining());
                    out.putInt(frame.remaining()).put(frame.duplicate()).flip();
                    r.respond(new ByteBufferSend(out));
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        handler.start();
    }

    @AfterEach
    void stop() throws InterruptedException {
        running = false;
        handler.join();
        server.shutdown();
    }

    private Socket connect() throws IOException {
        Socket s = new Socket("127.0.0.1", server.boundPort());
        s.setSoTimeout(5_000);
        return s;
    }

    private static void sendFrame(DataOutputStream out, byte[] payload) throws IOException {
        out.writeInt(payload.length);
        out.write(payload);
    }

    private static byte[] readFrame(DataInputStream in) throws IOException {
        byte[] b = new byte[in.readInt()];
        in.readFully(b);
        return b;
    }

    @Test
    void shouldAnswerPipelinedRequestsInOrder() throws IOException {
        try (Socket s = connect()) {
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            DataInputStream in = new DataInputStream(s.getInputStream());
            for (int i = 0; i < 50; i++) {
                sendFrame(out, ("req-" + i).getBytes());
            }
            out.flush();
            for (int i = 0; i < 50; i++) {
                assertArrayEquals(("req-" + i).getBytes(), readFrame(in));
            }
        }
    }

    @Test
    void shouldReadTheNextRequestAfterOneWithoutResponse() throws IOException {
        try (Socket s = connect()) {
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            DataInputStream in = new DataInputStream(s.getInputStream());
            sendFrame(out, "Zsilent".getBytes());
            sendFrame(out, "after".getBytes());
            assertArrayEquals("after".getBytes(), readFrame(in));
        }
    }

    @Test
    void shouldCloseConnectionOnNegativeOrOversizedFrameAndKeepServingOthers() throws IOException {
        try (Socket healthy = connect()) {
            DataOutputStream hout = new DataOutputStream(healthy.getOutputStream());
            DataInputStream hin = new DataInputStream(healthy.getInputStream());
            for (int size : new int[] {-1, 1025, Integer.MAX_VALUE}) {
                try (Socket bad = connect()) {
                    DataOutputStream out = new DataOutputStream(bad.getOutputStream());
                    out.writeInt(size);
                    out.flush();
                    DataInputStream in = new DataInputStream(bad.getInputStream());
                    assertThrows(IOException.class, () -> readOrReset(in), "size " + size);
                }
                sendFrame(hout, ("ok" + size).getBytes());
                assertArrayEquals(("ok" + size).getBytes(), readFrame(hin));
            }
        }
    }

    @Test
    void shouldAcceptTheLargestAllowedFrameAndSurviveATruncatedOne() throws IOException {
        try (Socket s = connect()) {
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            byte[] max = new byte[1024];
            max[0] = 'x';
            sendFrame(out, max);
            assertEquals(1024, readFrame(new DataInputStream(s.getInputStream())).length);
        }
        try (Socket s = connect()) {
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeInt(100);
            out.write(new byte[10]); // then hang up mid-frame
        }
        try (Socket s = connect()) {
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            sendFrame(out, "still here".getBytes());
            assertArrayEquals("still here".getBytes(), readFrame(new DataInputStream(s.getInputStream())));
        }
    }

    private static void readOrReset(DataInputStream in) throws IOException {
        try {
            in.readInt();
        } catch (SocketException | EOFException e) {
            throw e;
        }
    }
}
