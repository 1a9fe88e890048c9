package io.weir.broker.network;

import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The bounded queue between network threads and request-handler threads. Network threads put
 * complete request frames in (blocking when the queue is full, which pushes back on clients through
 * TCP); handlers take them and answer through {@link Request#respond}. Thread-safe.
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
     * {@link #respond}, {@link #noResponse} or {@link #closeConnection} must be called, once, from
     * any thread; until then the connection reads nothing more, so responses keep request order.
     */
    public static final class Request {
        private final Processor processor;
        private final String connectionId;
        private final ByteBuffer frame;
        private final long receivedNs;
        private final String clientAddress;

        Request(Processor processor, String connectionId, ByteBuffer frame, long receivedNs, String clientAddress) {
            this.processor = processor;
            this.connectionId = connectionId;
            this.frame = frame;
            this.receivedNs = receivedNs;
            this.clientAddress = clientAddress;
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

        /** Sends the response (which must start with its own 4-byte size) and reads the next request. */
        public void respond(Send response) {
            processor.enqueue(new Processor.Outcome(connectionId, response, false));
        }

        /** Sends nothing (acks=0) and reads the next request. */
        public void noResponse() {
            processor.enqueue(new Processor.Outcome(connectionId, null, false));
        }

        /** Closes the connection (a request so malformed that no response can be framed). */
        public void closeConnection() {
            processor.enqueue(new Processor.Outcome(connectionId, null, true));
        }
    }
}
