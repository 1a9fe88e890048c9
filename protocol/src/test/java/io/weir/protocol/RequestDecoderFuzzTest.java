package io.weir.protocol;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.weir.protocol.internals.ProtocolReader;
import io.weir.protocol.internals.ProtocolWriter;
import io.weir.protocol.message.ApiMessages;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fuzz targets for the request decoder, every API and version. A finding is any {@link Throwable}
 * other than {@link ProtocolDecodeException} (the decoder's only documented failure), or a decode
 * that allocates more than {@link #ALLOCATION_BYTES_PER_INPUT_BYTE} times its input plus
 * {@link #ALLOCATION_SLACK_BYTES}: a hostile length must never buy more memory than the bytes sent.
 *
 * <p>In the default build (no {@code JAZZER_FUZZ}) each target replays its seed corpus,
 * {@code src/test/resources/io/weir/protocol/RequestDecoderFuzzTestInputs/<method>/}: one valid
 * request per API and version encoded by Apache kafka-clients (written by {@link FuzzCorpusWriter}),
 * plus every input a fuzzing run found, kept as regressions. To fuzz (one target per run):
 * <pre>
 * mvn -B -o -Pfuzz -pl protocol -am test -Dtest='RequestDecoderFuzzTest#parseRequest' \
 *     -Dsurefire.failIfNoSpecifiedTests=false -Djazzer.max_duration=10m
 * </pre>
 */
class RequestDecoderFuzzTest {
    /** Objects, list slots and string copies per byte of input; the worst seen is far below this. */
    static final long ALLOCATION_BYTES_PER_INPUT_BYTE = 64;
    /** Fixed costs of one decode (header, empty top-level message, exception with its message). */
    static final long ALLOCATION_SLACK_BYTES = 256 * 1024;

    private static final com.sun.management.ThreadMXBean THREADS =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** A whole request frame (after the size prefix), as a broker's request handler receives it. */
    @FuzzTest(maxDuration = "5m")
    void parseRequest(byte[] frame) {
        assertAllocationBounded(frame.length, () -> {
            try {
                MessageCodec.ParsedRequest parsed = MessageCodec.parseRequest(ByteBuffer.wrap(frame));
                if (parsed.body() != null) {
                    reencode(parsed.body(), parsed.header().apiVersion());
                }
            } catch (ProtocolDecodeException malformed) {
                // the broker then answers from the header alone: that must not fail either
                MessageCodec.invalidRequestResponse(ByteBuffer.wrap(frame), api -> true);
            }
        });
    }

    /**
     * The structured variant: byte 0 picks the API, byte 1 the version (both modulo what is
     * implemented), the rest is the body; so every input reaches a body decoder.
     */
    @FuzzTest(maxDuration = "5m")
    void decodeBody(byte[] input) {
        if (input.length < 2) {
            return;
        }
        ApiKeys api = ApiKeys.values()[Byte.toUnsignedInt(input[0]) % ApiKeys.values().length];
        int versions = api.highestVersion() - api.lowestVersion() + 1;
        short version = (short) (api.lowestVersion() + Byte.toUnsignedInt(input[1]) % versions);
        assertAllocationBounded(input.length, () -> {
            ByteBuffer body = ByteBuffer.wrap(input, 2, input.length - 2);
            try {
                ApiMessage message = ApiMessages.readRequest(api.id(), version, new ProtocolReader(body));
                reencode(message, version);
            } catch (ProtocolDecodeException malformed) {
                // the documented failure
            }
        });
    }

    /** What was decoded must encode again and decode to an equal message. */
    private static void reencode(ApiMessage message, short version) {
        ByteBuffer out = ByteBuffer.allocate(message.size(version));
        message.write(new ProtocolWriter(out), version);
        assertEquals(0, out.remaining(), "size() disagrees with write()");
        ProtocolReader again = new ProtocolReader(out.flip());
        assertEquals(message, ApiMessages.readRequest(message.apiKey(), version, again));
        assertEquals(0, again.remaining());
    }

    /**
     * Runs {@code decode} and checks what it allocated on this thread. The first run of a message
     * class also loads and instruments classes, which allocates megabytes that are no cost of the
     * input; so an over-bound run is repeated (decoding is deterministic) and the repeat is judged.
     */
    private static void assertAllocationBounded(int inputBytes, Runnable decode) {
        long bound = ALLOCATION_BYTES_PER_INPUT_BYTE * inputBytes + ALLOCATION_SLACK_BYTES;
        long allocated = allocatedBy(decode);
        if (allocated > bound) {
            allocated = allocatedBy(decode);
        }
        assertTrue(allocated <= bound, "decoding " + inputBytes + " bytes allocated " + allocated
            + " bytes, more than the bound " + bound);
    }

    private static long allocatedBy(Runnable decode) {
        long before = THREADS.getCurrentThreadAllocatedBytes();
        decode.run();
        return THREADS.getCurrentThreadAllocatedBytes() - before;
    }
}
