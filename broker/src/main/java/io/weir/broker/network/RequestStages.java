package io.weir.broker.network;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Arrays;

/**
 * Per-stage timestamps of a sample of requests, for finding where a request waits (issue 14: the
 * end-to-end tail). Off unless the JVM runs with {@code -Dweir.debug.request.stages.sample=N} (N &gt; 0:
 * one request in N per network thread is stamped); when off, an unsampled request carries no stamps and
 * each {@link RequestChannel.Request#mark} is one null check. A sampled request logs one INFO line on
 * the {@code io.weir.broker.network.RequestStages} logger when its response has been written:
 *
 * <pre>
 * stages FETCH corr=17 conn=1-3 t0=123456789 us: dequeued=12 parked=40 woken=4210 responded=4290 picked=4301 written=4320 offset=5120
 * </pre>
 *
 * where {@code t0} is the nanoTime at which the request's last byte arrived and every figure is the
 * microseconds from then to that stage ({@code -} when the request did not pass it). {@code offset} (only when
 * known) is the first partition's offset: the base offset a produce was appended at, the offset a fetch read
 * from; it lets a tool match records to the requests that carried them ({@code EndToEndLatency --stages-file}).
 *
 * <p>Not thread-safe by itself, but each stage is stamped by the one thread that owns the request at
 * that point, and the hand-offs between them (the request queue, the processor's outcome queue) publish
 * the earlier stamps.
 */
public final class RequestStages {
    private static final Logger log = LoggerFactory.getLogger(RequestStages.class);

    /** One request in this many is stamped (per network thread); 0 turns stamping off. */
    public static final int SAMPLE_EVERY = Math.max(0, Integer.getInteger("weir.debug.request.stages.sample", 0));

    /** The stages, in the order a request passes them. */
    public enum Stage {
        /** The frame's last byte was read (the request's {@code receivedNs}). */
        RECEIVED,
        /** A handler thread took it from the request queue. */
        DEQUEUED,
        /** A fetch parked in the purgatory (not enough bytes yet). */
        PARKED,
        /** A parked fetch completed (an append woke it, or its deadline passed). */
        WOKEN,
        /** The handler (or the completing thread) handed the response to the network thread. */
        RESPONDED,
        /**
         * The response's writer started: the network thread picked the response up from its queue, or,
         * with direct writes (the default, see {@link Processor}), the answering thread started writing it
         * (then PICKED follows RESPONDED at once and the hand-off to the network thread is off the path).
         */
        PICKED,
        /** The response's last byte was written to the socket. */
        WRITTEN
    }

    private static final Stage[] STAGES = Stage.values();

    private final io.weir.common.Time time;
    private final String api;
    private final int correlationId;
    private final long[] stampsNs = new long[STAGES.length];
    private long offset = -1;

    RequestStages(io.weir.common.Time time, short apiKey, int correlationId, long receivedNs) {
        this.time = time;
        io.weir.protocol.ApiKeys key = io.weir.protocol.ApiKeys.forId(apiKey);
        this.api = key == null ? "api" + apiKey : key.name();
        this.correlationId = correlationId;
        Arrays.fill(stampsNs, -1);
        stampsNs[Stage.RECEIVED.ordinal()] = receivedNs;
    }

    /** Stamps {@code stage} with the clock's reading now, unless it was stamped before. */
    void mark(Stage stage) {
        if (stampsNs[stage.ordinal()] < 0) {
            stampsNs[stage.ordinal()] = time.nanoseconds();
        }
    }

    /** Notes the first partition's offset (the first call wins; negative offsets are ignored). */
    void noteOffset(long offset) {
        if (this.offset < 0 && offset >= 0) {
            this.offset = offset;
        }
    }

    /** The noted offset, or -1. */
    long offset() {
        return offset;
    }

    /** The stamp of {@code stage}, or -1 when the request did not pass it. */
    long stampNs(Stage stage) {
        return stampsNs[stage.ordinal()];
    }

    /** The log line (see the class comment). */
    String describe(String connectionId) {
        long t0 = stampsNs[0];
        StringBuilder sb = new StringBuilder(160).append("stages ").append(api).append(" corr=").append(correlationId)
            .append(" conn=").append(connectionId).append(" t0=").append(t0).append(" us:");
        for (int i = 1; i < STAGES.length; i++) {
            sb.append(' ').append(STAGES[i].name().toLowerCase(java.util.Locale.ROOT)).append('=');
            if (stampsNs[i] < 0) {
                sb.append('-');
            } else {
                sb.append((stampsNs[i] - t0) / 1000);
            }
        }
        if (offset >= 0) {
            sb.append(" offset=").append(offset);
        }
        return sb.toString();
    }

    void report(String connectionId) {
        if (log.isInfoEnabled()) {
            log.info(describe(connectionId));
        }
    }
}
