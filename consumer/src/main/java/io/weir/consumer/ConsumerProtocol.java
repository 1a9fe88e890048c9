package io.weir.consumer;

import io.weir.common.TopicPartition;
import io.weir.common.utils.ByteBufferOutputStream;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The bytes consumer-group members exchange through the coordinator (protocol type "consumer"), in
 * Kafka's ConsumerProtocol layout so that Weir and Kafka members understand each other. Not flexible
 * (classic int16-length strings, int32-count arrays):
 *
 * <pre>
 * Subscription: version int16 | topics [string] | userData nullable bytes
 *               | ownedPartitions [topic string, partitions [int32]] (v1+)
 *               | generationId int32 (v2+, -1 unknown) | rackId nullable string (v3+)
 * Assignment:   version int16 | assignedPartitions [topic string, partitions [int32]] | userData nullable bytes
 * </pre>
 * A reader that meets a higher version parses the fields it knows and ignores the rest, as Kafka does.
 */
public final class ConsumerProtocol {
    public static final String PROTOCOL_TYPE = "consumer";
    public static final short SUBSCRIPTION_VERSION = 3;
    public static final short ASSIGNMENT_VERSION = 3;

    private ConsumerProtocol() {
    }

    /** One member's subscription. {@code userData} may be null; {@code generationId} -1 if unknown. */
    public record Subscription(List<String> topics, ByteBuffer userData, List<TopicPartition> ownedPartitions,
                               int generationId, String rackId) {
        public Subscription {
            topics = List.copyOf(topics);
            ownedPartitions = List.copyOf(ownedPartitions);
        }
    }

    /** One member's assignment. {@code userData} may be null. */
    public record Assignment(List<TopicPartition> partitions, ByteBuffer userData) {
        public Assignment {
            partitions = List.copyOf(partitions);
        }
    }

    public static ByteBuffer serializeSubscription(Subscription s) {
        return serializeSubscription(s, SUBSCRIPTION_VERSION);
    }

    public static ByteBuffer serializeSubscription(Subscription s, short version) {
        Writer w = new Writer();
        w.int16(version);
        w.int32(s.topics().size());
        for (String t : s.topics()) {
            w.string(t);
        }
        w.bytes(s.userData());
        if (version >= 1) {
            w.partitions(s.ownedPartitions());
        }
        if (version >= 2) {
            w.int32(s.generationId());
        }
        if (version >= 3) {
            w.string(s.rackId());
        }
        return w.done();
    }

    public static Subscription deserializeSubscription(ByteBuffer buffer) {
        ByteBuffer b = buffer.duplicate();
        short version = b.getShort();
        if (version < 0) {
            throw new IllegalArgumentException("negative subscription version " + version);
        }
        int n = b.getInt();
        List<String> topics = new ArrayList<>(Math.max(0, n));
        for (int i = 0; i < n; i++) {
            topics.add(readString(b));
        }
        ByteBuffer userData = readBytes(b);
        List<TopicPartition> owned = version >= 1 ? readPartitions(b) : List.of();
        int generation = version >= 2 ? b.getInt() : -1;
        String rack = version >= 3 ? readString(b) : null;
        return new Subscription(topics, userData, owned, generation, rack);
    }

    public static ByteBuffer serializeAssignment(Assignment a) {
        Writer w = new Writer();
        w.int16(ASSIGNMENT_VERSION);
        w.partitions(a.partitions());
        w.bytes(a.userData());
        return w.done();
    }

    public static Assignment deserializeAssignment(ByteBuffer buffer) {
        if (buffer == null || buffer.remaining() == 0) {
            return new Assignment(List.of(), null); // a member the leader left out
        }
        ByteBuffer b = buffer.duplicate();
        short version = b.getShort();
        if (version < 0) {
            throw new IllegalArgumentException("negative assignment version " + version);
        }
        List<TopicPartition> parts = readPartitions(b);
        ByteBuffer userData = readBytes(b);
        return new Assignment(parts, userData);
    }

    private static String readString(ByteBuffer b) {
        short len = b.getShort();
        if (len < 0) {
            return null;
        }
        byte[] bytes = new byte[len];
        b.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static ByteBuffer readBytes(ByteBuffer b) {
        int len = b.getInt();
        if (len < 0) {
            return null;
        }
        ByteBuffer out = b.slice().limit(len);
        b.position(b.position() + len);
        return out;
    }

    private static List<TopicPartition> readPartitions(ByteBuffer b) {
        int topics = b.getInt();
        List<TopicPartition> out = new ArrayList<>();
        for (int i = 0; i < topics; i++) {
            String topic = readString(b);
            int n = b.getInt();
            for (int j = 0; j < n; j++) {
                out.add(new TopicPartition(topic, b.getInt()));
            }
        }
        return out;
    }

    private static final class Writer {
        private final ByteBufferOutputStream out = new ByteBufferOutputStream(128);

        void int16(short v) {
            out.writeShort(v);
        }

        void int32(int v) {
            out.writeInt(v);
        }

        void string(String s) {
            if (s == null) {
                int16((short) -1);
                return;
            }
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            int16((short) bytes.length);
            out.write(bytes, 0, bytes.length);
        }

        void bytes(ByteBuffer b) {
            if (b == null) {
                int32(-1);
                return;
            }
            ByteBuffer d = b.duplicate();
            int32(d.remaining());
            out.write(d);
        }

        void partitions(List<TopicPartition> parts) {
            Map<String, List<Integer>> byTopic = new LinkedHashMap<>();
            for (TopicPartition tp : parts) {
                byTopic.computeIfAbsent(tp.topic(), k -> new ArrayList<>()).add(tp.partition());
            }
            int32(byTopic.size());
            for (Map.Entry<String, List<Integer>> e : byTopic.entrySet()) {
                string(e.getKey());
                int32(e.getValue().size());
                for (int p : e.getValue()) {
                    int32(p);
                }
            }
        }

        ByteBuffer done() {
            return out.toReadableBuffer();
        }
    }
}
