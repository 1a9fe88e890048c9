package io.weir.broker.transaction;

import io.weir.broker.coordinator.runtime.CoordinatorSerde;
import io.weir.broker.coordinator.runtime.SerializedRecord;
import io.weir.common.TopicPartition;
import io.weir.common.record.CorruptRecordException;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Keys and values of {@code __transaction_state}, one record per transactional id (the topic is
 * compacted, so the latest value per id is what survives). The key is Kafka's (version 0 + id); the
 * value follows Kafka's TransactionLog value with its later additions as plain fields. Integers are
 * big-endian; a string is an int16 length and UTF-8 bytes.
 * <pre>
 * key    int16 version=0 | string transactionalId
 * value  int16 version=1 | int64 producerId | int64 previousProducerId | int64 nextProducerId
 *        | int16 producerEpoch | int16 lastProducerEpoch | int32 txnTimeoutMs | int8 state
 *        | int32 nTopics × (string topic | int32 n × int32 partition)
 *        | int64 txnLastUpdateTimestampMs | int64 txnStartTimestampMs | int8 clientTransactionVersion
 * </pre>
 * A null value is the tombstone of an expired id.
 */
public final class TransactionRecords {
    static final short KEY_VERSION = 0;
    static final short VALUE_VERSION = 1;

    private TransactionRecords() {
    }

    /** One record: an id's metadata, or (null metadata) its tombstone. */
    public record TransactionRecord(String transactionalId, TransactionMetadata metadata) {
    }

    public static final CoordinatorSerde<TransactionRecord> SERDE = new CoordinatorSerde<>() {
        @Override
        public SerializedRecord serialize(TransactionRecord record) {
            return new SerializedRecord(key(record.transactionalId()),
                record.metadata() == null ? null : value(record.metadata()));
        }

        @Override
        public TransactionRecord deserialize(ByteBuffer key, ByteBuffer value) {
            String id = readKey(key);
            return new TransactionRecord(id, value == null ? null : readValue(id, value));
        }
    };

    static ByteBuffer key(String transactionalId) {
        byte[] id = transactionalId.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(2 + 2 + id.length);
        b.putShort(KEY_VERSION).putShort((short) id.length).put(id);
        return b.flip();
    }

    static ByteBuffer value(TransactionMetadata m) {
        Map<String, List<Integer>> byTopic = new LinkedHashMap<>();
        for (TopicPartition tp : m.partitions()) {
            byTopic.computeIfAbsent(tp.topic(), t -> new ArrayList<>()).add(tp.partition());
        }
        int size = 2 + 8 + 8 + 8 + 2 + 2 + 4 + 1 + 4 + 8 + 8 + 1;
        for (Map.Entry<String, List<Integer>> e : byTopic.entrySet()) {
            size += 2 + e.getKey().getBytes(StandardCharsets.UTF_8).length + 4 + 4 * e.getValue().size();
        }
        ByteBuffer b = ByteBuffer.allocate(size);
        b.putShort(VALUE_VERSION).putLong(m.producerId()).putLong(m.previousProducerId()).putLong(m.nextProducerId())
            .putShort(m.producerEpoch()).putShort(m.lastProducerEpoch()).putInt(m.txnTimeoutMs()).put(m.state().id());
        b.putInt(byTopic.size());
        for (Map.Entry<String, List<Integer>> e : byTopic.entrySet()) {
            byte[] t = e.getKey().getBytes(StandardCharsets.UTF_8);
            b.putShort((short) t.length).put(t).putInt(e.getValue().size());
            e.getValue().forEach(b::putInt);
        }
        b.putLong(m.txnLastUpdateTimestampMs()).putLong(m.txnStartTimestampMs()).put(m.clientTransactionVersion());
        return b.flip();
    }

    static String readKey(ByteBuffer key) {
        try {
            ByteBuffer b = key.duplicate();
            short version = b.getShort();
            if (version != KEY_VERSION) {
                throw new CorruptRecordException("unknown __transaction_state key version " + version);
            }
            return getString(b);
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            throw new CorruptRecordException("truncated __transaction_state key: " + e);
        }
    }

    static TransactionMetadata readValue(String transactionalId, ByteBuffer value) {
        try {
            ByteBuffer b = value.duplicate();
            short version = b.getShort();
            if (version != VALUE_VERSION) {
                throw new CorruptRecordException("unknown __transaction_state value version " + version);
            }
            long pid = b.getLong();
            long previous = b.getLong();
            long next = b.getLong();
            short epoch = b.getShort();
            short lastEpoch = b.getShort();
            int timeoutMs = b.getInt();
            TransactionState state = TransactionState.fromId(b.get());
            int topics = b.getInt();
            if (topics < 0 || topics > b.remaining()) {
                throw new CorruptRecordException("bad topic count " + topics + " in __transaction_state value");
            }
            List<TopicPartition> partitions = new ArrayList<>();
            for (int i = 0; i < topics; i++) {
                String topic = getString(b);
                int n = b.getInt();
                if (n < 0 || n > b.remaining() / 4) {
                    throw new CorruptRecordException("bad partition count " + n + " in __transaction_state value");
                }
                for (int j = 0; j < n; j++) {
                    partitions.add(new TopicPartition(topic, b.getInt()));
                }
            }
            long lastUpdate = b.getLong();
            long start = b.getLong();
            byte txnVersion = b.get();
            return new TransactionMetadata(transactionalId, pid, previous, next, epoch, lastEpoch, timeoutMs, state,
                java.util.Set.copyOf(partitions), start, lastUpdate, txnVersion);
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            throw new CorruptRecordException("truncated __transaction_state value: " + e);
        }
    }

    private static String getString(ByteBuffer b) {
        short len = b.getShort();
        if (len < 0) {
            throw new IllegalArgumentException("null string");
        }
        byte[] s = new byte[len];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }
}
