package io.weir.tools;

import java.nio.ByteBuffer;

/**
 * Turns one record of a coordinator's internal topic ({@code __consumer_offsets},
 * {@code __transaction_state}) into the key and payload text that {@link DumpLogSegments} prints, in
 * the JSON shape Kafka's {@code kafka-dump-log.sh} decoders print. Implementations are stateless.
 */
@FunctionalInterface
interface RecordDecoder {
    /** A decoded record: the key text, and the payload text (null when nothing is printed for it). */
    record Decoded(String key, String payload) {
    }

    /**
     * Decodes one record ({@code value} null for a tombstone). A record that cannot be decoded gives
     * Kafka's {@code Error at offset N, skipping. <why>} (or {@code Unknown record type}) as its key and
     * no payload; it never throws.
     */
    Decoded decode(long offset, ByteBuffer key, ByteBuffer value);
}
