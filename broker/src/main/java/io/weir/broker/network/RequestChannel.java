package io.weir.broker.network;

import io.weir.protocol.ApiKeys;

import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The bounded queue between network threads and request-handler threads. Network threads put
 * complete request frames in (blocking when the queue is full, which pushes back on clients through
 * TCP); handlers take them and answer through {@link Request#respond}, which by default writes the
 * response from the answering thread when the socket takes it (the connection is muted while its request
 * is in flight, so that is the only thread using the channel) and leaves only the rest to the network
 * thread; {@code -Dweir.network.direct.response.writes=false} hands every response to the network
 * thread instead. See {@link Processor}. Thread-safe.
 */
public final class RequestChannel {
    private final BlockingQueue<Request> requests;

    public RequestChannel(int capacity) {
        this.requests = new ArrayBlockingQueue<>(capacity);
    }

    void put(Request request) throws InterruptedException {
        requests.put(request);
    }

    /** The next request, or null after {@code timeoutMs}. */
    public Request poll(long timeoutMs) throws InterruptedException {
        return requests.poll(timeoutMs, TimeUnit.MILLISECONDS);
    }

    public int size() {
        return requests.size();
    }

    /**
     * One complete request frame (without its 4-byte size) from one connection. Exactly one of
     * {@link #respond}, {@link #noResponse} or {@link #closeConnection} completes it, from any
     * thread; until then no other request of the connection reaches a handler (it reads nothing more,
     * or, with read-ahead, holds the few it read), so responses keep request order. The
     * first completion wins and later ones are ignored (a request parked in a purgatory may be
     * completed by a timer after its handler failed and closed the connection).
     *
     * <p>Completing gives the frame's bytes back to the {@link RequestMemoryPool}: a handler must
     * be done with {@link #frame()} (appended the produce records, copied what it keeps) before it
     * completes the request.
     */
    public static final class Request {
        private final Processor processor;
        private final String connectionId;
        /** The connection's channel, which {@link #respond} may write to (see {@link Processor}). */
        private final SocketChannel channel;
        private final ByteBuffer frame;
        private final long receivedNs;
        private final String clientAddress;
        private final RequestMemoryPool pool;
        private final int reservedBytes;
        private final AtomicBoolean completed = new AtomicBoolean();
        /** Stage timestamps when this request is in the debug sample, else null. */
        private final RequestStages stages;

        Request(Processor processor, String connectionId, SocketChannel channel, ByteBuffer frame, long receivedNs,
                String clientAddress, RequestMemoryPool pool, int reservedBytes, RequestStages stages) {
            this.stages = stages;
            this.processor = processor;
            this.connectionId = connectionId;
            this.channel = channel;
            this.frame = frame;
            this.receivedNs = receivedNs;
            this.clientAddress = clientAddress;
            this.pool = pool;
            this.reservedBytes = reservedBytes;
        }

        /** The request bytes: header then body, position 0. */
        public ByteBuffer frame() {
            return frame;
        }

        public String connectionId() {
            return connectionId;
        }

        public String clientAddress() {
            return clientAddress;
        }

        public long receivedNs() {
            return receivedNs;
        }

        /** Stamps {@code stage} when this request is in the debug sample ({@link RequestStages}); else nothing. */
        public void mark(RequestStages.Stage stage) {
            if (stages != null) {
                stages.mark(stage);
            }
        }

        /** Whether this request is in the debug sample of {@link RequestStages}. */
        public boolean stamped() {
            return stages != null;
        }

        /** Notes the offset a debug-sampled request produced at or fetched from ({@link RequestStages}); else nothing. */
        public void noteOffset(long offset) {
            if (stages != null) {
                stages.noteOffset(offset);
            }
        }

        /** True once the request was answered, left without answer, or its connection closed. */
        public boolean completed() {
            return completed.get();
        }

        /**
         * Sends the response (which must start with its own 4-byte size) and reads the next request. By
         * default the calling thread writes what the socket takes at once, non-blocking, and the network
         * thread writes the rest ({@link Processor}); the response then belongs to those threads. Never
         * throws for a failed write: the response is dropped and the connection closed.
         */
        public void respond(Send response) {
            if (complete()) {
                mark(RequestStages.Stage.RESPONDED);
                processor.respond(connectionId, channel, response, stages);
            }
        }

        /** Sends nothing (acks=0) and reads the next request. */
        public void noResponse() {
            if (complete()) {
                processor.enqueue(new Processor.Outcome(connectionId, null, false, null));
            }
        }

        /** Closes the connection (a request so malformed that no response can be framed). */
        public void closeConnection() {
            if (complete()) {
                processor.enqueue(new Processor.Outcome(connectionId, null, true, null));
            }
        }

        /** Gives the memory back without an answer: the connection closed before this read-ahead request was handed over. */
        void discard() {
            complete();
        }

        private boolean complete() {
            if (!completed.compareAndSet(false, true)) {
                return false;
            }
            pool.release(reservedBytes);
            return true;
        }

        /**
         * The request for a log line, read from the raw header without decoding the body (so it
         * works for a request the decoder chokes on): API name and version, correlation id, client
         * id and address.
         */
        public String describe() {
            StringBuilder sb = new StringBuilder();
            if (frame.limit() < 8) {
                sb.append("a ").append(frame.limit()).append("-byte frame");
            } else {
                short key = frame.getShort(0);
                ApiKeys api = ApiKeys.forId(key);
                sb.append(api != null ? api.apiName() : "API key " + key).append(" v").append(frame.getShort(2))
                    .append(" (correlation id ").append(frame.getInt(4));
                if (frame.limit() >= 10) {
                    int len = frame.getShort(8);
                    if (len >= 0 && 10 + len <= frame.limit()) {
                        byte[] id = new byte[Math.min(len, 200)];
                        frame.get(10, id);
                        sb.append(", client id '").append(new String(id, StandardCharsets.UTF_8)).append('\'');
                    }
                }
                sb.append(')');
            }
            return sb.append(" from ").append(clientAddress).append(" (connection ").append(connectionId).append(')')
                .toString();
        }
    }
}
