package io.weir.consumer;

import io.weir.common.TopicPartition;
import io.weir.protocol.client.Cluster;

import java.io.Closeable;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A Kafka-protocol consumer: reads records from partitions it is assigned by hand ({@link #assign})
 * or by its group ({@link #subscribe}), keeps a position per partition, and commits positions to
 * the group coordinator. Like Kafka's consumer it is <em>not</em> thread-safe: one thread calls it,
 * except {@link #wakeup()}, which any thread may call.
 */
public interface Consumer<K, V> extends Closeable {
    Set<TopicPartition> assignment();

    /**
     * This consumer's group membership now (group id, generation, member id, instance id), to pass to
     * a transactional producer's {@code sendOffsetsToTransaction} so offsets from a member fenced by
     * a rebalance are refused. Throws IllegalStateException without a {@code group.id}.
     */
    ConsumerGroupMetadata groupMetadata();

    Set<String> subscription();

    void subscribe(Collection<String> topics);

    void subscribe(Collection<String> topics, ConsumerRebalanceListener listener);

    void subscribe(Pattern pattern);

    void subscribe(Pattern pattern, ConsumerRebalanceListener listener);

    void unsubscribe();

    void assign(Collection<TopicPartition> partitions);

    ConsumerRecords<K, V> poll(Duration timeout);

    void commitSync();

    void commitSync(Duration timeout);

    void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets);

    void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets, Duration timeout);

    void commitAsync();

    void commitAsync(OffsetCommitCallback callback);

    void commitAsync(Map<TopicPartition, OffsetAndMetadata> offsets, OffsetCommitCallback callback);

    void seek(TopicPartition partition, long offset);

    void seek(TopicPartition partition, OffsetAndMetadata offsetAndMetadata);

    void seekToBeginning(Collection<TopicPartition> partitions);

    void seekToEnd(Collection<TopicPartition> partitions);

    long position(TopicPartition partition);

    long position(TopicPartition partition, Duration timeout);

    Map<TopicPartition, OffsetAndMetadata> committed(Set<TopicPartition> partitions);

    Map<TopicPartition, OffsetAndMetadata> committed(Set<TopicPartition> partitions, Duration timeout);

    List<Cluster.PartitionInfo> partitionsFor(String topic);

    List<Cluster.PartitionInfo> partitionsFor(String topic, Duration timeout);

    Map<TopicPartition, Long> beginningOffsets(Collection<TopicPartition> partitions);

    Map<TopicPartition, Long> endOffsets(Collection<TopicPartition> partitions);

    Map<TopicPartition, Long> beginningOffsets(Collection<TopicPartition> partitions, Duration timeout);

    Map<TopicPartition, Long> endOffsets(Collection<TopicPartition> partitions, Duration timeout);

    Set<TopicPartition> paused();

    void pause(Collection<TopicPartition> partitions);

    void resume(Collection<TopicPartition> partitions);

    /** Makes a blocked or the next blocking call throw {@link io.weir.consumer.errors.WakeupException}. */
    void wakeup();

    @Override
    void close();

    void close(Duration timeout);
}
