package io.weir.producer;

import io.weir.protocol.client.Cluster;

import java.io.Closeable;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Future;

/**
 * Sends records to a Weir (or any Kafka-protocol) cluster. Records are batched per partition and
 * sent by a background thread; {@link #send} returns at once with a future for the record's
 * metadata. Implementations are thread-safe: many threads may share one producer.
 *
 * @param <K> key type
 * @param <V> value type
 */
public interface Producer<K, V> extends Closeable {
    /** Same as {@code send(record, null)}. */
    Future<RecordMetadata> send(ProducerRecord<K, V> record);

    /**
     * Queues a record for sending. Blocks only while the topic's metadata is unknown or
     * {@code buffer.memory} is full, up to {@code max.block.ms} in total, then throws a
     * {@link io.weir.protocol.client.TimeoutException} naming what it waited for. The callback runs on
     * the producer's I/O thread, in send order per partition; it must be quick.
     */
    Future<RecordMetadata> send(ProducerRecord<K, V> record, Callback callback);

    /** Makes every buffered record sendable now and blocks until all records sent before the call completed. */
    void flush();

    /** The partitions of a topic, fetching metadata if needed (up to {@code max.block.ms}). */
    List<Cluster.PartitionInfo> partitionsFor(String topic);

    /** A snapshot of the producer's counters and gauges, by Kafka's metric names where one exists. */
    Map<String, Double> metrics();

    /**
     * Sends what is buffered for up to {@code timeout}, then fails what is left with an exception
     * and releases the producer's threads and connections. {@code Duration.ZERO} fails everything
     * pending at once.
     */
    void close(Duration timeout);

    /** {@code close(Duration.ofMillis(Long.MAX_VALUE))}: waits until everything buffered was sent. */
    @Override
    void close();
}
