package io.weir.broker.group;

import io.weir.broker.coordinator.runtime.CoordinatorSerde;
import io.weir.broker.coordinator.runtime.SerializedRecord;
import io.weir.common.TopicPartition;
import io.weir.common.record.CorruptRecordException;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Keys and values of the records in {@code __consumer_offsets}. The layout follows Kafka's, so the
 * topic reads the same to tools that know that format. All integers big-endian; a string is an
 * int16 length (-1 for null) and UTF-8 bytes; bytes are an int32 length and the bytes.
 * <pre>
 * offset key     int16 version=1 | string group | string topic | int32 partition
 * group key      int16 version=2 | string group
 * offset value   int16 version=3 | int64 offset | int32 leaderEpoch | string metadata | int64 commitTimestamp
 * group value    int16 version=3 | string protocolType | int32 generation | string? protocol | string? leader
 *                | int64 stateTimestamp | int32 n | n × member
 * member         string memberId | string? instanceId | string clientId | string clientHost
 *                | int32 rebalanceTimeoutMs | int32 sessionTimeoutMs | bytes subscription | bytes assignment
 * </pre>
 * A record with a null value is a tombstone: the key's offset or group is deleted.
 */
final class GroupRecords {
    static final short OFFSET_KEY_VERSION = 1;
    static final short GROUP_KEY_VERSION = 2;
    static final short OFFSET_VALUE_VERSION = 3;
    static final short GROUP_VALUE_VERSION = 3;

    private GroupRecords() {
    }

    /** A parsed key: a group's offset for a partition, or a group's metadata. */
    sealed interface Key permits OffsetKey, GroupKey {
        String group();
    }

    record OffsetKey(String group, TopicPartition partition) implements Key {
    }

    record GroupKey(String group) implements Key {
    }

    /** A member as stored in the group value. */
    record StoredMember(String memberId, String groupInstanceId, String clientId, String clientHost,
                        int rebalanceTimeoutMs, int sessionTimeoutMs, byte[] subscription, byte[] assignment) {
    }

    /** The group value. */
    record StoredGroup(String protocolType, int generationId, String protocolName, String leaderId,
                       long stateTimestampMs, List<StoredMember> members) {
    }

    /** One record of {@code __consumer_offsets}, as the group coordinator's shard writes and replays it. */
    sealed interface GroupRecord permits OffsetRecord, MetadataRecord {
        String groupId();
    }

    /** A committed offset, or (null offset) its tombstone. */
    record OffsetRecord(String groupId, TopicPartition partition, CommittedOffset offset) implements GroupRecord {
    }

    /** A group's metadata, or (null group) the group's tombstone. */
    record MetadataRecord(String groupId, StoredGroup group) implements GroupRecord {
    }

    /** Reads and writes {@link GroupRecord}s in the layout drawn above. */
    static final CoordinatorSerde<GroupRecord> SERDE = new CoordinatorSerde<>() {
        @Override
        public SerializedRecord serialize(GroupRecord record) {
            if (record instanceof OffsetRecord o) {
                return new SerializedRecord(offsetKey(o.groupId(), o.partition()),
                    o.offset() == null ? null : offsetValue(o.offset()));
            }
            MetadataRecord m = (MetadataRecord) record;
            return new SerializedRecord(groupKey(m.groupId()), m.group() == null ? null : groupValue(m.group()));
        }

        @Override
        public GroupRecord deserialize(ByteBuffer key, ByteBuffer value) {
            Key k = readKey(key);
            if (k instanceof OffsetKey ok) {
                return new OffsetRecord(ok.group(), ok.partition(), value == null ? null : readOffsetValue(value));
            }
            return new MetadataRecord(k.group(), value == null ? null : readGroupValue(value));
        }
    };

    static ByteBuffer offsetKey(String group, TopicPartition tp) {
        byte[] g = utf8(group);
        byte[] t = utf8(tp.topic());
        ByteBuffer b = ByteBuffer.allocate(2 + 2 + g.length + 2 + t.length + 4);
        b.putShort(OFFSET_KEY_VERSION);
        putString(b, g);
        putString(b, t);
        b.putInt(tp.partition());
        return b.flip();
    }

    static ByteBuffer groupKey(String group) {
        byte[] g = utf8(group);
        ByteBuffer b = ByteBuffer.allocate(2 + 2 + g.length);
        b.putShort(GROUP_KEY_VERSION);
        putString(b, g);
        return b.flip();
    }

    static ByteBuffer offsetValue(CommittedOffset o) {
        byte[] md = utf8(o.metadata());
        ByteBuffer b = ByteBuffer.allocate(2 + 8 + 4 + 2 + md.length + 8);
        b.putShort(OFFSET_VALUE_VERSION).putLong(o.offset()).putInt(o.leaderEpoch());
        putString(b, md);
        b.putLong(o.commitTimestampMs());
        return b.flip();
    }

    static ByteBuffer groupValue(StoredGroup g) {
        int size = 2 + stringSize(g.protocolType()) + 4 + stringSize(g.protocolName()) + stringSize(g.leaderId()) + 8 + 4;
        for (StoredMember m : g.members()) {
            size += stringSize(m.memberId()) + stringSize(m.groupInstanceId()) + stringSize(m.clientId())
                + stringSize(m.clientHost()) + 8 + 4 + m.subscription().length + 4 + m.assignment().length;
        }
        ByteBuffer b = ByteBuffer.allocate(size);
        b.putShort(GROUP_VALUE_VERSION);
        putString(b, g.protocolType() == null ? "" : g.protocolType());
        b.putInt(g.generationId());
        putString(b, g.protocolName());
        putString(b, g.leaderId());
        b.putLong(g.stateTimestampMs());
        b.putInt(g.members().size());
        for (StoredMember m : g.members()) {
            putString(b, m.memberId());
            putString(b, m.groupInstanceId());
            putString(b, m.clientId());
            putString(b, m.clientHost());
            b.putInt(m.rebalanceTimeoutMs()).putInt(m.sessionTimeoutMs());
            b.putInt(m.subscription().length).put(m.subscription());
            b.putInt(m.assignment().length).put(m.assignment());
        }
        if (b.hasRemaining()) {
            throw new AssertionError("group value size miscounted");
        }
        return b.flip();
    }

    static Key readKey(ByteBuffer key) {
        try {
            ByteBuffer b = key.duplicate();
            short version = b.getShort();
            if (version == 0 || version == OFFSET_KEY_VERSION) {
                String group = getString(b);
                String topic = getString(b);
                return new OffsetKey(group, new TopicPartition(topic, b.getInt()));
            }
            if (version == GROUP_KEY_VERSION) {
                return new GroupKey(getString(b));
            }
            throw new CorruptRecordException("unknown __consumer_offsets key version " + version);
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            throw new CorruptRecordException("truncated __consumer_offsets key: " + e);
        }
    }

    static CommittedOffset readOffsetValue(ByteBuffer value) {
        try {
            ByteBuffer b = value.duplicate();
            short version = b.getShort();
            if (version != OFFSET_VALUE_VERSION) {
                throw new CorruptRecordException("unknown __consumer_offsets offset value version " + version);
            }
            long offset = b.getLong();
            int epoch = b.getInt();
            String md = getString(b);
            return new CommittedOffset(offset, epoch, md, b.getLong());
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            throw new CorruptRecordException("truncated __consumer_offsets offset value: " + e);
        }
    }

    static StoredGroup readGroupValue(ByteBuffer value) {
        try {
            ByteBuffer b = value.duplicate();
            short version = b.getShort();
            if (version != GROUP_VALUE_VERSION) {
                throw new CorruptRecordException("unknown __consumer_offsets group value version " + version);
            }
            String type = getString(b);
            int generation = b.getInt();
            String protocol = getString(b);
            String leader = getString(b);
            long ts = b.getLong();
            int n = b.getInt();
            if (n < 0 || n > b.remaining()) {
                throw new CorruptRecordException("bad member count " + n + " in __consumer_offsets group value");
            }
            List<StoredMember> members = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                members.add(new StoredMember(getString(b), getString(b), getString(b), getString(b), b.getInt(), b.getInt(),
                    getBytes(b), getBytes(b)));
            }
            return new StoredGroup(type, generation, protocol, leader, ts, members);
        } catch (BufferUnderflowException | IllegalArgumentException | NegativeArraySizeException e) {
            throw new CorruptRecordException("truncated __consumer_offsets group value: " + e);
        }
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static int stringSize(String s) {
        return 2 + (s == null ? 0 : utf8(s).length);
    }

    private static void putString(ByteBuffer b, String s) {
        if (s == null) {
            b.putShort((short) -1);
        } else {
            putString(b, utf8(s));
        }
    }

    private static void putString(ByteBuffer b, byte[] s) {
        b.putShort((short) s.length).put(s);
    }

    private static String getString(ByteBuffer b) {
        short len = b.getShort();
        if (len < 0) {
            return null;
        }
        byte[] s = new byte[len];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }

    private static byte[] getBytes(ByteBuffer b) {
        int len = b.getInt();
        if (len < 0) {
            return Member.EMPTY_BYTES;
        }
        byte[] s = new byte[len];
        b.get(s);
        return s;
    }
}
