package io.weir.broker.group;

import io.weir.broker.BrokerConfig;
import io.weir.broker.metadata.MetadataStore;
import io.weir.broker.metadata.TopicMetadata;
import io.weir.broker.server.Partition;
import io.weir.broker.server.ReplicaManager;
import io.weir.broker.server.TopicService;
import io.weir.log.CompressionType;
import io.weir.log.CorruptRecordException;
import io.weir.log.FetchDataInfo;
import io.weir.log.Log;
import io.weir.log.LogConfig;
import io.weir.log.MemoryRecords;
import io.weir.log.Record;
import io.weir.log.RecordBatch;
import io.weir.log.RecordBatchBuilder;
import io.weir.log.TopicPartition;
import io.weir.protocol.Errors;
import io.weir.protocol.Records;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Owns the internal topic {@code __consumer_offsets}: creates it (compacted) on first need, maps a
 * group to its partition, appends the coordinator's records with acks=all, and replays a partition
 * into groups and offsets when this broker becomes its leader (at start).
 *
 * <p>Thread-safe. Appends for one group are ordered by the caller (it holds the group's lock).
 */
final class GroupMetadataManager {
    static final String TOPIC = "__consumer_offsets";
    private static final Logger log = LoggerFactory.getLogger(GroupMetadataManager.class);
    private static final int LOAD_READ_BYTES = 5 * 1024 * 1024;

    /** Whether this broker can serve the groups of one partition yet. */
    enum Status { NOT_HOSTED, LOADING, LOADED }

    /** What a partition's log holds for one group after replay. */
    static final class Loaded {
        GroupRecords.StoredGroup group;
        final Map<TopicPartition, CommittedOffset> offsets = new HashMap<>();
    }

    private final BrokerConfig config;
    private final ReplicaManager replicaManager;
    private final TopicService topics;
    private final MetadataStore store;
    private final Map<Integer, Status> status = new ConcurrentHashMap<>();
    private volatile int partitionCount;

    GroupMetadataManager(BrokerConfig config, ReplicaManager replicaManager, TopicService topics, MetadataStore store) {
        this.config = config;
        this.replicaManager = replicaManager;
        this.topics = topics;
        this.store = store;
        this.partitionCount = store.topic(TOPIC).map(TopicMetadata::partitionCount)
            .orElse(config.getInt(BrokerConfig.OFFSETS_TOPIC_NUM_PARTITIONS));
    }

    /** Kafka's mapping, so a group lands on the same partition number as it would on Kafka. */
    int partitionFor(String groupId) {
        int h = groupId.hashCode();
        return (h == Integer.MIN_VALUE ? 0 : Math.abs(h)) % partitionCount;
    }

    int partitionCount() {
        return partitionCount;
    }

    boolean topicExists() {
        return store.topic(TOPIC).isPresent();
    }

    /** Creates the topic if it does not exist; its new (empty) partitions are loaded at once. */
    synchronized boolean ensureTopic() {
        if (topicExists()) {
            return true;
        }
        int n = config.getInt(BrokerConfig.OFFSETS_TOPIC_NUM_PARTITIONS);
        Map<String, String> configs = Map.of(LogConfig.CLEANUP_POLICY, "compact",
            LogConfig.SEGMENT_BYTES, Integer.toString(config.getInt(BrokerConfig.OFFSETS_TOPIC_SEGMENT_BYTES)));
        TopicService.Result r = topics.create(TOPIC, n, (short) 1, Map.of(), configs, false);
        if (r.error() != Errors.NONE && r.error() != Errors.TOPIC_ALREADY_EXISTS) {
            log.error("cannot create {}: {} {}", TOPIC, r.error(), r.message());
            return false;
        }
        partitionCount = store.topic(TOPIC).map(TopicMetadata::partitionCount).orElse(n);
        if (r.error() == Errors.NONE) {
            for (int p = 0; p < partitionCount; p++) {
                status.put(p, Status.LOADED);
            }
            log.info("created {} with {} partitions", TOPIC, partitionCount);
        }
        return true;
    }

    Status status(int partition) {
        return status.getOrDefault(partition, Status.NOT_HOSTED);
    }

    void setStatus(int partition, Status s) {
        status.put(partition, s);
    }

    /** One record to append: a key and a value, or a null value for a tombstone. */
    record Entry(ByteBuffer key, ByteBuffer value) {
    }

    /**
     * Appends records to the group's partition with acks=all; returns the error to give the client
     * (Kafka's mapping of storage errors to coordinator errors), NONE once the records are in the log.
     */
    Errors append(String groupId, List<Entry> entries, long nowMs) {
        TopicPartition tp = new TopicPartition(TOPIC, partitionFor(groupId));
        RecordBatchBuilder builder = new RecordBatchBuilder(CompressionType.NONE);
        for (Entry e : entries) {
            builder.append(nowMs, e.key(), e.value());
        }
        ReplicaManager.AppendResult r = replicaManager.appendAsLeader(tp, Records.wrap(builder.build()), (short) -1);
        return switch (r.error()) {
            case NONE -> Errors.NONE;
            case UNKNOWN_TOPIC_OR_PARTITION, NOT_ENOUGH_REPLICAS, NOT_ENOUGH_REPLICAS_AFTER_APPEND, REQUEST_TIMED_OUT ->
                Errors.COORDINATOR_NOT_AVAILABLE;
            case NOT_LEADER_OR_FOLLOWER, KAFKA_STORAGE_ERROR -> Errors.NOT_COORDINATOR;
            case MESSAGE_TOO_LARGE, RECORD_LIST_TOO_LARGE, INVALID_FETCH_SIZE -> Errors.INVALID_COMMIT_OFFSET_SIZE;
            default -> {
                log.warn("append to {} for group {} failed: {} {}", tp, groupId, r.error(), r.errorMessage());
                yield Errors.UNKNOWN_SERVER_ERROR;
            }
        };
    }

    /** Replays one partition: the latest value per key wins, tombstones delete. */
    Map<String, Loaded> load(int partition) {
        TopicPartition tp = new TopicPartition(TOPIC, partition);
        Partition p = replicaManager.partition(tp);
        Map<String, Loaded> out = new HashMap<>();
        if (p == null) {
            return out;
        }
        Log l = p.log();
        long offset = l.logStartOffset();
        long end = p.highWatermark();
        int records = 0;
        while (offset < end) {
            FetchDataInfo info = l.read(offset, LOAD_READ_BYTES, end, true);
            if (info.records().sizeInBytes() == 0) {
                break;
            }
            MemoryRecords batches;
            try {
                batches = info.records().readRecords();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + tp + " at " + offset, e);
            }
            long next = offset;
            for (RecordBatch batch : batches) {
                next = Math.max(next, batch.nextOffset());
                if (batch.isControlBatch() || batch.isTransactional()) {
                    continue; // transactional offset commits belong to the transaction coordinator's work
                }
                for (Iterator<Record> it = batch.records(); it.hasNext(); ) {
                    Record r = it.next();
                    if (r.offset() < offset || !r.hasKey()) {
                        continue;
                    }
                    try {
                        apply(out, r);
                        records++;
                    } catch (CorruptRecordException e) {
                        log.warn("skipping unreadable record at {} offset {}: {}", tp, r.offset(), e.getMessage());
                    }
                }
            }
            if (next <= offset) {
                break;
            }
            offset = next;
        }
        out.values().removeIf(g -> g.group == null && g.offsets.isEmpty());
        log.info("loaded {} ({} records, {} groups)", tp, records, out.size());
        return out;
    }

    private static void apply(Map<String, Loaded> out, Record r) {
        GroupRecords.Key key = GroupRecords.readKey(r.key());
        Loaded g = out.computeIfAbsent(key.group(), k -> new Loaded());
        if (key instanceof GroupRecords.OffsetKey ok) {
            if (r.hasValue()) {
                g.offsets.put(ok.partition(), GroupRecords.readOffsetValue(r.value()));
            } else {
                g.offsets.remove(ok.partition());
            }
        } else {
            g.group = r.hasValue() ? GroupRecords.readGroupValue(r.value()) : null;
        }
    }
}
