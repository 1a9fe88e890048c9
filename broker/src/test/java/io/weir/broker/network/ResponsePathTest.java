package io.weir.broker.network;

import io.weir.common.Time;
import io.weir.common.testing.MockTime;
import io.weir.common.testing.TempDirs;
import io.weir.protocol.Records;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import static io.weir.broker.network.RawSocketFixture.echo;
import static io.weir.broker.network.RawSocketFixture.exchange;
import static io.weir.broker.network.RawSocketFixture.readFrame;
import static io.weir.broker.network.RawSocketFixture.readText;
import static io.weir.broker.network.RawSocketFixture.sendFrame;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The response path of the network layer on real sockets (issue 14): the thread that answers a request
 * writes the response itself when the socket takes it, the network thread writes the rest; after a
 * response has left, the next request is read at once; and none of it reorders, truncates or loses a
 * response, or survives a connection that was closed under the writer.
 */
class ResponsePathTest {
    private static final String HANDLER_PREFIX = RawSocketFixture.HANDLER_PREFIX;

    private final MockTime mock = new MockTime();
    /** A network thread whose name is in here dies at its next clock reading (as in ProcessorReplacementTest). */
    private final Set<String> failNetworkThreads = ConcurrentHashMap.newKeySet();
    private final Time time = new BreakingClock(mock, failNetworkThreads::remove);
    private final RawSocketFixture net = new RawSocketFixture(64);
    private SocketServer server;

    @AfterEach
    void stop() throws IOException {
        net.close();
    }

    private void start(SocketServer.Settings settings, int handlerThreads, Consumer<RequestChannel.Request> handler)
        throws IOException {
        server = net.start(settings, time);
        net.startHandlers(handler, handlerThreads);
    }

    private static SocketServer.Settings settings(int networkThreads, boolean directWrites, boolean eagerReads) {
        return SocketServer.Settings.defaults(networkThreads, 1 << 20).withResponsePath(directWrites, eagerReads);
    }

    private static ByteBuffer framed(byte[] payload) {
        ByteBuffer out = ByteBuffer.allocate(4 + payload.length);
        out.putInt(payload.length).put(payload).flip();
        return out;
    }

    private static byte[] bytes(ByteBuffer frame) {
        byte[] b = new byte[frame.remaining()];
        frame.duplicate().get(b);
        return b;
    }

    /** A send that notes which threads wrote it and what its last write threw. */
    private static final class RecordingSend implements Send {
        final Send delegate;
        final Set<String> writers = ConcurrentHashMap.newKeySet();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch gate;
        final CountDownLatch done = new CountDownLatch(1);

        RecordingSend(Send delegate, CountDownLatch gate) {
            this.delegate = delegate;
            this.gate = gate;
        }

        @Override
        public long writeTo(GatheringByteChannel ch) throws IOException {
            writers.add(Thread.currentThread().getName());
            entered.countDown();
            try {
                if (!gate.await(30, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("the test never opened the gate");
                }
                return delegate.writeTo(ch);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException(e);
            } catch (IOException | RuntimeException e) {
                failure.set(e);
                throw e;
            } finally {
                if (delegate.completed() || failure.get() != null) {
                    done.countDown();
                }
            }
        }

        @Override
        public boolean completed() {
            return delegate.completed();
        }

        @Override
        public long size() {
            return delegate.size();
        }
    }

    /** File-backed records written with {@code transferTo}, as a fetch's segment region is. */
    private static final class FileRecords extends Records.Sendable {
        private final FileChannel file;
        private final int size;

        FileRecords(FileChannel file, int size) {
            this.file = file;
            this.size = size;
        }

        @Override
        public long writeTo(WritableByteChannel ch, long offset, long length) throws IOException {
            return file.transferTo(offset, length, ch);
        }

        @Override
        public int sizeInBytes() {
            return size;
        }
    }

    private static boolean writtenBy(RecordingSend send, String prefix) {
        return send.writers.stream().anyMatch(n -> n.startsWith(prefix));
    }

    /** Starts one handler that echoes each request through a {@link RecordingSend}, listed in what it returns. */
    private List<RecordingSend> startRecordingEchoes(boolean directWrites) throws IOException {
        List<RecordingSend> sends = new ArrayList<>();
        start(settings(1, directWrites, true), 1, r -> {
            RecordingSend s = new RecordingSend(new ByteBufferSend(framed(bytes(r.frame()))), new CountDownLatch(0));
            synchronized (sends) {
                sends.add(s);
            }
            r.respond(s);
        });
        return sends;
    }

    @Test
    void shouldWriteAResponseTheSocketTakesFromTheAnsweringThread() throws Exception {
        List<RecordingSend> sends = startRecordingEchoes(true);
        try (Socket s = net.connect()) {
            assertEquals("small", exchange(s, "small"));
        }
        assertEquals(Set.of(HANDLER_PREFIX + 0), sends.get(0).writers,
            "the handler wrote the whole response; the network thread did not touch it");
    }

    @Test
    void shouldWriteEveryResponseFromTheNetworkThreadWithTheSwitchOff() throws Exception {
        List<RecordingSend> sends = startRecordingEchoes(false);
        try (Socket s = net.connect()) {
            assertEquals("small", exchange(s, "small"));
        }
        assertEquals(Set.of("weir-network-0"), sends.get(0).writers);
    }

    @Test
    void shouldDeliverAResponseLargerThanTheSocketBuffersWholeWhenTheAnsweringThreadWritesOnlyPart()
        throws Exception {
        Random random = new Random(42);
        byte[] head = new byte[1 << 20];
        // with the head, above what a socket buffers on common hosts (tcp_wmem's ceiling is 4 to 16 MiB)
        byte[] fileBytes = new byte[24 << 20];
        byte[] tail = new byte[1000];
        random.nextBytes(head);
        random.nextBytes(fileBytes);
        random.nextBytes(tail);
        int total = head.length + fileBytes.length + tail.length;
        Path dir = TempDirs.create("response-path");
        try {
            Path file = dir.resolve("segment");
            Files.write(file, fileBytes);
            try (FileChannel fc = FileChannel.open(file, StandardOpenOption.READ)) {
                AtomicReference<RecordingSend> sent = new AtomicReference<>();
                CountDownLatch responded = new CountDownLatch(1);
                start(settings(1, true, true), 1, r -> {
                    if (!"big please".equals(new String(bytes(r.frame()), StandardCharsets.UTF_8))) {
                        echo(r);
                        return;
                    }
                    ByteBuffer h = ByteBuffer.allocate(4 + head.length);
                    h.putInt(total).put(head).flip();
                    RecordingSend s = new RecordingSend(new MultiSend(List.of(new ByteBufferSend(h),
                        new RecordsSend(new FileRecords(fc, fileBytes.length)),
                        new ByteBufferSend(ByteBuffer.wrap(tail)))), new CountDownLatch(0));
                    sent.set(s);
                    r.respond(s);
                    responded.countDown();
                });
                Socket s = new Socket();
                s.setReceiveBufferSize(4096); // a slow reader with a small window: the socket cannot take it all
                s.setSoTimeout(15_000);
                s.connect(new InetSocketAddress("127.0.0.1", server.boundPort()));
                try (s) {
                    sendFrame(s, "big please");
                    assertTrue(responded.await(15, TimeUnit.SECONDS));
                    // the handler has returned from respond() before the client read a byte
                    byte[] answer = readFrame(s);
                    assertEquals(total, answer.length);
                    assertTrue(Arrays.equals(head, 0, head.length, answer, 0, head.length), "the buffer part");
                    assertTrue(Arrays.equals(fileBytes, 0, fileBytes.length, answer, head.length,
                        head.length + fileBytes.length), "the file region");
                    assertTrue(Arrays.equals(tail, 0, tail.length, answer, head.length + fileBytes.length, total),
                        "the last part");
                    assertEquals("next", exchange(s, "next"), "the connection reads on after the large response");
                }
                assertTrue(writtenBy(sent.get(), HANDLER_PREFIX), "the handler wrote what the socket took at once");
                assertTrue(writtenBy(sent.get(), "weir-network-"), "the network thread wrote the rest");
            }
        } finally {
            TempDirs.delete(dir);
        }
    }

    @Test
    void shouldDropAResponseWhoseConnectionClosedWhileItsHandlerWroteAndKeepServing() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        AtomicReference<RecordingSend> gated = new AtomicReference<>();
        AtomicBoolean respondThrew = new AtomicBoolean();
        // two network threads: connection 1 goes to weir-network-0 (killed below), connection 2 to weir-network-1
        start(settings(2, true, true), 1, r -> {
            byte[] payload = bytes(r.frame());
            if (payload.length > 0 && payload[0] == 'G') {
                RecordingSend s = new RecordingSend(new ByteBufferSend(framed(payload)), gate);
                gated.set(s);
                try {
                    r.respond(s);
                } catch (Throwable t) {
                    respondThrew.set(true);
                    throw t;
                }
            } else {
                echo(r);
            }
        });
        try (Socket doomed = net.connect(); Socket other = net.connect()) {
            assertEquals("hello", exchange(other, "hello"));
            sendFrame(doomed, "Gated");
            while (gated.get() == null) {
                Thread.onSpinWait();
            }
            assertTrue(gated.get().entered.await(15, TimeUnit.SECONDS), "the handler is writing the response");
            // the only handler is held in the write: this request waits for it
            sendFrame(other, "queued behind");
            // the network thread that owns the doomed connection dies and closes it under the writing handler
            failNetworkThreads.add("weir-network-0");
            assertConnectionClosed(doomed.getInputStream());
            gate.countDown();
            assertTrue(gated.get().done.await(15, TimeUnit.SECONDS));
            assertInstanceOf(IOException.class, gated.get().failure.get(), "the write met the closed channel");
            assertEquals(Set.of(HANDLER_PREFIX + 0), gated.get().writers);
            assertTrue(!respondThrew.get(), "respond() dropped the response quietly");
            // the other connection lost nothing, and the same handler goes on serving
            assertEquals("queued behind", readText(other));
            assertEquals("again", exchange(other, "again"));
        }
        try (Socket fresh = net.connect(); Socket fresh2 = net.connect()) {
            assertEquals("fresh", exchange(fresh, "fresh"));
            assertEquals("fresh2", exchange(fresh2, "fresh2"));
        }
    }

    private static void assertConnectionClosed(InputStream in) throws IOException {
        try {
            assertEquals(-1, in.read(), "the dying network thread closes its connections");
        } catch (SocketException reset) {
            // closed as well
        }
    }

    @Test
    void shouldReadTheNextRequestAtOnceWhenTheResponseHasLeft() throws Exception {
        start(settings(1, true, true), 1, RawSocketFixture::echo);
        assertEquals(2, pipelinedPair());
    }

    @Test
    void shouldWaitForASelectRoundToReadTheNextRequestWithEagerReadsOff() throws Exception {
        start(settings(1, true, false), 1, RawSocketFixture::echo);
        assertEquals(0, pipelinedPair());
    }

    /** Sends three requests in one write and reads their answers; returns how many were read eagerly. */
    private long pipelinedPair() throws IOException {
        try (Socket s = net.connect()) {
            ByteBuffer three = ByteBuffer.allocate(3 * 5);
            three.putInt(1).put((byte) 'a').putInt(1).put((byte) 'b').putInt(1).put((byte) 'c');
            s.getOutputStream().write(three.array());
            s.getOutputStream().flush();
            assertEquals("a", readText(s));
            assertEquals("b", readText(s));
            assertEquals("c", readText(s));
        }
        return server.eagerlyReadRequests();
    }

    @Test
    void shouldKeepResponsesInRequestOrderPerConnectionUnderManyPipelinedRequests() throws Exception {
        answerPipelinedRequestsInOrder(0);
    }

    @Test
    void shouldKeepResponsesInRequestOrderPerConnectionWithReadAhead() throws Exception {
        answerPipelinedRequestsInOrder(4);
    }

    private void answerPipelinedRequestsInOrder(int readAheadFrames) throws Exception {
        int connections = 4;
        int requestsPerConnection = 1_500;
        // answers of 1 B to 300 KB from four handler threads with random pauses: some are written whole by the
        // handler, some in part by it and in part by the network thread; every 7th request gets no answer
        start(settings(2, true, true).withReadAheadFrames(readAheadFrames), 4, r -> {
            ByteBuffer frame = r.frame();
            int seq = frame.getInt(0);
            if (seq % 7 == 3) {
                r.noResponse();
                return;
            }
            if (ThreadLocalRandom.current().nextInt(10) == 0) {
                Thread.yield();
            }
            int size = frame.getInt(4);
            ByteBuffer out = ByteBuffer.allocate(4 + size);
            out.putInt(size).putInt(seq);
            for (int i = 4; i < size; i++) {
                out.put((byte) (seq + i));
            }
            out.flip();
            r.respond(new ByteBufferSend(out));
        });
        List<Thread> readers = new ArrayList<>();
        List<Socket> sockets = new ArrayList<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        try {
            for (int c = 0; c < connections; c++) {
                Socket s = net.connect();
                sockets.add(s);
                Random random = new Random(c);
                int[] sizes = new int[requestsPerConnection];
                for (int i = 0; i < sizes.length; i++) {
                    sizes[i] = random.nextInt(20) == 0 ? 100_000 + random.nextInt(200_000) : 4 + random.nextInt(2_000);
                }
                Thread writer = new Thread(() -> {
                    try {
                        DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(
                            s.getOutputStream()));
                        for (int i = 0; i < sizes.length; i++) {
                            out.writeInt(8);
                            out.writeInt(i);
                            out.writeInt(sizes[i]);
                        }
                        out.flush();
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                    }
                });
                Thread reader = new Thread(() -> {
                    try {
                        DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(s.getInputStream()));
                        for (int i = 0; i < sizes.length; i++) {
                            if (i % 7 == 3) {
                                continue;
                            }
                            int size = in.readInt();
                            assertEquals(sizes[i], size, "size of the answer to request " + i);
                            assertEquals(i, in.readInt(), "answers in request order");
                            for (int k = 4; k < size; k++) {
                                if (in.readByte() != (byte) (i + k)) {
                                    throw new AssertionError("byte " + k + " of answer " + i);
                                }
                            }
                        }
                    } catch (Throwable t) {
                        failure.compareAndSet(null, t);
                    }
                });
                writer.start();
                reader.start();
                readers.add(writer);
                readers.add(reader);
            }
            for (Thread t : readers) {
                t.join(120_000);
            }
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
        }
        assertNull(failure.get(), () -> "failed: " + failure.get());
    }
}
