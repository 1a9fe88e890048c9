package io.weir.tools;

import io.weir.common.TopicPartition;
import io.weir.common.utils.Json;
import io.weir.consumer.ConsumerProtocol;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the records of {@code __consumer_offsets} into the JSON that Kafka's
 * {@code kafka-dump-log.sh --offsets-decoder} prints: an offset commit as key
 * {@code {"type":"1","data":{"group":...,"topic":...,"partition":...}}} and value
 * {@code {"version":"3","data":{"offset":...,"leaderEpoch":...,"metadata":...,"commitTimestamp":...}}};
 * a group's metadata as key {@code {"type":"2","data":{"group":...}}} and value
 * {@code {"version":"3","data":{"protocolType":...,"generation":...,"protocol":...,"leader":...,
 * "currentStateTimestamp":...,"members":[...]}}}, where a consumer group's member subscriptions and
 * assignments are decoded (Kafka's ConsumerProtocol JSON) and other groups' are base64; a tombstone
 * is {@code <DELETE>}.
 *
 * <p>The bytes are the broker's ({@code io.weir.broker.group.GroupRecords}), which are Kafka's classic
 * layout (offset key v1, group key v2, both values v3), so Kafka's own segments decode here too:
 * <pre>
 * offset key     int16 version=0|1 | string group | string topic | int32 partition
 * group key      int16 version=2 | string group
 * offset value   int16 version=3 | int64 offset | int32 leaderEpoch | string metadata | int64 commitTimestamp
 * group value    int16 version=3 | string protocolType | int32 generation | string? protocol | string? leader
 *                | int64 stateTimestamp | int32 n | n × member
 * member         string memberId | string? instanceId | string clientId | string clientHost
 *                | int32 rebalanceTimeoutMs | int32 sessionTimeoutMs | bytes subscription | bytes assignment
 * </pre>
 * Integers are big-endian; a string is an int16 length (-1 for null) and UTF-8 bytes; bytes are an
 * int32 length and the bytes. Stateless.
 */
final class OffsetsDecoder {
    /** The decoder DumpLogSegments uses for {@code --offsets-decoder}. */
    static final RecordDecoder INSTANCE = OffsetsDecoder::decode;

    /** Kafka's record type ids, printed as the key's "type". */
    private static final short OFFSET_COMMIT_TYPE = 1;
    private static final short GROUP_METADATA_TYPE = 2;

    private OffsetsDecoder() {
    }

    /** See {@link RecordDecoder#decode}. */
    static RecordDecoder.Decoded decode(long offset, ByteBuffer key, ByteBuffer value) {
        if (key == null) {
            return new RecordDecoder.Decoded("Failed to decode message at offset " + offset
                + " using the specified decoder (message had a missing key)", null);
        }
        try {
            ByteBuffer k = key.duplicate();
            short version = k.getShort();
            Map<String, Object> keyData = new LinkedHashMap<>();
            short type;
            if (version == 0 || version == 1) {
                type = OFFSET_COMMIT_TYPE;
                keyData.put("group", string(k));
                keyData.put("topic", string(k));
                keyData.put("partition", k.getInt());
            } else if (version == 2) {
                type = GROUP_METADATA_TYPE;
                keyData.put("group", string(k));
            } else {
                return new RecordDecoder.Decoded("Unknown record type " + version + " at offset " + offset
                    + ", skipping.", null);
            }
            String payload;
            if (value == null) {
                payload = "<DELETE>";
            } else {
                payload = type == OFFSET_COMMIT_TYPE ? offsetValue(value.duplicate()) : groupValue(value.duplicate());
            }
            Map<String, Object> keyJson = new LinkedHashMap<>();
            keyJson.put("type", String.valueOf(type));
            keyJson.put("data", keyData);
            return new RecordDecoder.Decoded(Json.write(keyJson), payload);
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            return new RecordDecoder.Decoded("Error at offset " + offset + ", skipping. "
                + TransactionLogDecoder.describe(e), null);
        }
    }

    private static String offsetValue(ByteBuffer b) {
        short version = b.getShort();
        if (version != 3) {
            throw new IllegalArgumentException("Unknown offset commit value version " + version);
        }
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("offset", b.getLong());
        data.put("leaderEpoch", b.getInt());
        data.put("metadata", string(b));
        data.put("commitTimestamp", b.getLong());
        return versioned(version, data);
    }

    private static String groupValue(ByteBuffer b) {
        short version = b.getShort();
        if (version != 3) {
            throw new IllegalArgumentException("Unknown group metadata value version " + version);
        }
        Map<String, Object> data = new LinkedHashMap<>();
        String protocolType = string(b);
        data.put("protocolType", protocolType);
        data.put("generation", b.getInt());
        data.put("protocol", string(b));
        data.put("leader", string(b));
        data.put("currentStateTimestamp", b.getLong());
        int n = b.getInt();
        if (n < 0 || n > b.remaining()) {
            throw new IllegalArgumentException("bad member count " + n);
        }
        boolean consumer = ConsumerProtocol.PROTOCOL_TYPE.equals(protocolType);
        List<Object> members = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("memberId", string(b));
            m.put("groupInstanceId", string(b));
            m.put("clientId", string(b));
            m.put("clientHost", string(b));
            m.put("rebalanceTimeout", b.getInt());
            m.put("sessionTimeout", b.getInt());
            byte[] subscription = bytes(b);
            byte[] assignment = bytes(b);
            m.put("subscription", consumer ? subscription(subscription) : base64(subscription));
            m.put("assignment", consumer ? assignment(assignment) : base64(assignment));
            members.add(m);
        }
        data.put("members", members);
        return versioned(version, data);
    }

    /** Kafka's ConsumerProtocolSubscription JSON for the version the bytes carry. */
    private static Object subscription(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        short version = b.getShort(0);
        ConsumerProtocol.Subscription s = ConsumerProtocol.deserializeSubscription(b);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("topics", new ArrayList<Object>(s.topics()));
        json.put("userData", base64(s.userData()));
        if (version >= 1) {
            json.put("ownedPartitions", byTopic(s.ownedPartitions()));
        }
        if (version >= 2) {
            json.put("generationId", s.generationId());
        }
        if (version >= 3) {
            json.put("rackId", s.rackId());
        }
        return json;
    }

    /** Kafka's ConsumerProtocolAssignment JSON. */
    private static Object assignment(byte[] bytes) {
        if (bytes.length == 0) {
            return base64(bytes); // a member the leader left out: nothing to decode
        }
        ConsumerProtocol.Assignment a = ConsumerProtocol.deserializeAssignment(ByteBuffer.wrap(bytes));
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("assignedPartitions", byTopic(a.partitions()));
        json.put("userData", base64(a.userData()));
        return json;
    }

    /** [{"topic":...,"partitions":[...]}] in the order the topics first appear. */
    private static List<Object> byTopic(List<TopicPartition> partitions) {
        Map<String, List<Object>> grouped = new LinkedHashMap<>();
        for (TopicPartition tp : partitions) {
            grouped.computeIfAbsent(tp.topic(), t -> new ArrayList<>()).add(tp.partition());
        }
        List<Object> out = new ArrayList<>(grouped.size());
        grouped.forEach((topic, ps) -> {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("topic", topic);
            e.put("partitions", ps);
            out.add(e);
        });
        return out;
    }

    private static String versioned(short version, Map<String, Object> data) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("version", String.valueOf(version));
        json.put("data", data);
        return Json.write(json);
    }

    private static String base64(byte[] bytes) {
        return Base64.getEncoder().encodeToString(bytes);
    }

    private static String base64(ByteBuffer bytes) {
        if (bytes == null) {
            return null;
        }
        byte[] copy = new byte[bytes.remaining()];
        bytes.duplicate().get(copy);
        return base64(copy);
    }

    private static String string(ByteBuffer b) {
        short len = b.getShort();
        if (len < 0) {
            return null;
        }
        byte[] s = new byte[len];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }

    private static byte[] bytes(ByteBuffer b) {
        int len = b.getInt();
        if (len < 0) {
            return new byte[0];
        }
        if (len > b.remaining()) {
            throw new BufferUnderflowException();
        }
        byte[] s = new byte[len];
        b.get(s);
        return s;
    }
}
