package io.weir.streams.processor.internals;

import io.weir.common.record.Header;
import io.weir.streams.errors.ErrorHandlerContext;

import java.util.List;

/**
 * Where a task's sinks and changelogs send serialized records. The runtime's collector hands them to
 * the thread's transactional producer (so output, changelog records and input offsets commit as one
 * transaction); the test driver's keeps them in memory per topic.
 */
public interface RecordCollector {

    /** Sends one record; a null partition lets the producer's partitioner pick by key. */
    void send(String topic, Integer partition, long timestamp, byte[] key, byte[] value, List<Header> headers);

    /**
     * Sends one record of a sink; {@code errorContext} names the task and input record for the production exception
     * handler should the send fail after this call returned (the producer's callback).
     */
    default void send(String topic, Integer partition, long timestamp, byte[] key, byte[] value, List<Header> headers,
                      ErrorHandlerContext errorContext) {
        send(topic, partition, timestamp, key, value, headers);
    }

    /** The partition count of the topic, for {@code StreamPartitioner}s. */
    int partitionCount(String topic);
}
