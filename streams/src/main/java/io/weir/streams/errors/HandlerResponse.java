package io.weir.streams.errors;

import io.weir.producer.ProducerRecord;

import java.util.List;

/**
 * What the three exception handlers' {@code Response} classes share: a result and the dead-letter records to send
 * before it is acted on (KIP-1034), copied once, never null. Each handler interface keeps its own public
 * {@code Response} (as Kafka Streams' API has it), with its own {@code Result} and factories. Immutable.
 *
 * @param <R> the handler's {@code Result}
 */
abstract class HandlerResponse<R extends Enum<R>> {
    private final R result;
    private final List<ProducerRecord<byte[], byte[]>> deadLetterQueueRecords;

    HandlerResponse(R result, List<ProducerRecord<byte[], byte[]>> deadLetterQueueRecords) {
        this.result = result;
        this.deadLetterQueueRecords = deadLetterQueueRecords == null ? List.of() : List.copyOf(deadLetterQueueRecords);
    }

    public R result() {
        return result;
    }

    /** The records for the dead-letter topic; never null. */
    public List<ProducerRecord<byte[], byte[]>> deadLetterQueueRecords() {
        return deadLetterQueueRecords;
    }

    @Override
    public String toString() {
        return result + (deadLetterQueueRecords.isEmpty() ? "" : " with " + deadLetterQueueRecords.size() + " dead-letter record(s)");
    }
}
