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

    /**
     * Gets the producer id for {@code transactional.id} from its transaction coordinator, fencing any older
     * producer with the same id (its open transaction is aborted). Call once, before any other transactional
     * method. Blocks up to {@code max.block.ms}; after a {@link io.weir.protocol.client.TimeoutException} it
     * may be called again and resumes.
     *
     * @throws IllegalStateException without a {@code transactional.id}
     * @throws ProducerFatalException if not authorized, or the id cannot be obtained ({@link ProducerFencedException} if fenced)
     */
    void initTransactions();

    /** Opens a transaction; records sent until commit or abort belong to it. */
    void beginTransaction();

    /**
     * Adds consumed offsets to the open transaction: the group's committed offsets move only if it commits.
     * Pass {@code consumer.groupMetadata()} so offsets from a member fenced by a rebalance are refused.
     * Blocks up to {@code max.block.ms}.
     *
     * @throws TransactionAbortableException if the commit was refused (abort, then go on)
     */
    void sendOffsetsToTransaction(Map<io.weir.common.TopicPartition, io.weir.consumer.OffsetAndMetadata> offsets,
                                  io.weir.consumer.ConsumerGroupMetadata groupMetadata);

    /**
     * Sends every record of the transaction, then commits it. Blocks up to {@code max.block.ms}; after a
     * timeout it may be called again and resumes.
     *
     * @throws TransactionAbortableException if a send or offset commit in it failed: call {@link #abortTransaction()}
     * @throws ProducerFencedException if a newer producer with the same transactional.id exists: close this one
     */
    void commitTransaction();

    /**
     * Aborts the transaction: queued records fail, and none of its records or offsets become visible to
     * read_committed consumers. Blocks up to {@code max.block.ms}.
     */
    void abortTransaction();

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
