package io.weir.broker.api;

import io.weir.broker.network.Send;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.GatheringByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.ArrayList;
import java.util.List;

/** A connection stand-in: records each outcome in order; responses as their frame bytes (size stripped). */
final class CapturingSink implements ResponseSink {
    /** One outcome: a response frame, no response, or a close. */
    record Outcome(ByteBuffer response, boolean closed) {
    }

    final List<Outcome> outcomes = new ArrayList<>();

    @Override
    public synchronized void respond(Send response) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        WritableByteChannel ch = Channels.newChannel(out);
        GatheringByteChannel gathering = new GatheringAdapter(ch);
        try {
            while (!response.completed()) {
                response.writeTo(gathering);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ByteBuffer frame = ByteBuffer.wrap(out.toByteArray());
        int size = frame.getInt();
        if (size != frame.remaining()) {
            throw new AssertionError("frame size " + size + " but " + frame.remaining() + " bytes follow");
        }
        outcomes.add(new Outcome(frame.slice(), false));
    }

    @Override
    public synchronized void noResponse() {
        outcomes.add(new Outcome(null, false));
    }

    @Override
    public synchronized void closeConnection() {
        outcomes.add(new Outcome(null, true));
    }

    synchronized int size() {
        return outcomes.size();
    }

    synchronized Outcome last() {
        return outcomes.get(outcomes.size() - 1);
    }

    synchronized boolean everClosed() {
        return outcomes.stream().anyMatch(Outcome::closed);
    }

    /** A gathering view of a plain channel (writes each buffer in turn). */
    private static final class GatheringAdapter implements GatheringByteChannel {
        private final WritableByteChannel ch;

        GatheringAdapter(WritableByteChannel ch) {
            this.ch = ch;
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
            long n = 0;
            for (int i = offset; i < offset + length; i++) {
                n += ch.write(srcs[i]);
            }
            return n;
        }

        @Override
        public long write(ByteBuffer[] srcs) throws IOException {
            return write(srcs, 0, srcs.length);
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            return ch.write(src);
        }

        @Override
        public boolean isOpen() {
            return ch.isOpen();
        }

        @Override
        public void close() throws IOException {
            ch.close();
        }
    }
}
