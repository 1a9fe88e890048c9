package io.weir.protocol;

import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.*;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.common.protocol.types.ArrayOf;
import org.apache.kafka.common.protocol.types.BoundField;
import org.apache.kafka.common.protocol.types.CompactArrayOf;
import org.apache.kafka.common.protocol.types.Field;
import org.apache.kafka.common.protocol.types.NullableSchema;
import org.apache.kafka.common.protocol.types.Schema;
import org.apache.kafka.common.protocol.types.Struct;
import org.apache.kafka.common.protocol.types.TaggedFields;
import org.apache.kafka.common.protocol.types.Type;
import org.apache.kafka.common.record.internal.MemoryRecords;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * Test helper: random but valid messages produced by Apache kafka-clients. It walks Kafka's own
 * schema for an API version, fills every field (and a random subset of tagged fields) with random
 * values, lets Kafka encode them, then parses and re-encodes them with Kafka's generated data class
 * so the result is Kafka's canonical encoding.
 */
final class KafkaRandomMessages {
    private KafkaRandomMessages() {
    }

    /**
     * Whether the kafka-clients on this classpath (4.x) still has the API's message classes: the
     * ZooKeeper-mode controller's LeaderAndIsr, StopReplica and UpdateMetadata left with ZooKeeper in
     * Kafka 4.0, so they are checked against Kafka 3.9's classes in compat-tests-kafka3 instead.
     */
    static boolean inKafkaClients(ApiKeys api) {
        try {
            Class.forName("org.apache.kafka.common.message." + api.apiName() + "RequestData");
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    static Class<?> dataClass(String apiName, boolean request) {
        try {
            return Class.forName("org.apache.kafka.common.message." + apiName + (request ? "Request" : "Response") + "Data");
        } catch (ClassNotFoundException e) {
            throw new AssertionError(e);
        }
    }

    static Schema schema(Class<?> dataClass, short version) {
        try {
            Schema[] schemas = (Schema[]) dataClass.getField("SCHEMAS").get(null);
            Schema s = schemas[version];
            if (s == null) {
                throw new AssertionError(dataClass.getSimpleName() + " has no schema for version " + version);
            }
            return s;
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    /** Parses {@code bytes} with Kafka's generated data class. */
    static ApiMessage kafkaRead(Class<?> dataClass, ByteBuffer bytes, short version) {
        try {
            return (ApiMessage) dataClass.getConstructor(org.apache.kafka.common.protocol.Readable.class, short.class)
                .newInstance(new ByteBufferAccessor(bytes.duplicate()), version);
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw new AssertionError("Kafka could not read the bytes", e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    /** Random bytes in Kafka's canonical encoding of one message of the given API and version. */
    static ByteBuffer randomCanonical(String apiName, boolean request, short version, Random random) {
        Class<?> cls = dataClass(apiName, request);
        Schema schema = schema(cls, version);
        Struct struct = (Struct) randomValue(schema, random, 0);
        ByteBuffer raw = ByteBuffer.allocate(schema.sizeOf(struct));
        schema.write(raw, struct);
        raw.flip();
        ApiMessage data = kafkaRead(cls, raw, version);
        org.apache.kafka.common.protocol.ObjectSerializationCache cache =
            new org.apache.kafka.common.protocol.ObjectSerializationCache();
        ByteBuffer out = ByteBuffer.allocate(data.size(cache, version));
        data.write(new ByteBufferAccessor(out), cache, version);
        return out.flip();
    }

    private static String randomString(Random random) {
        int n = random.nextInt(8);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            int pick = random.nextInt(20);
            b.append(pick == 0 ? 'é' : pick == 1 ? '€' : (char) ('a' + random.nextInt(26)));
        }
        if (random.nextInt(10) == 0) {
            b.append("\uD83D\uDE00"); // a surrogate pair: 4 UTF-8 bytes
        }
        return b.toString();
    }

    private static ByteBuffer randomBytes(Random random) {
        byte[] b = new byte[random.nextInt(12)];
        random.nextBytes(b);
        return ByteBuffer.wrap(b);
    }

    private static Object randomValue(Type type, Random random, int depth) {
        boolean maybeNull = type.isNullable() && random.nextInt(5) == 0;
        if (maybeNull) {
            return null;
        }
        if (type instanceof Schema schema) {
            Struct s = new Struct(schema);
            for (BoundField f : schema.fields()) {
                s.set(f, randomValue(f.def.type, random, depth + 1));
            }
            return s;
        }
        if (type instanceof NullableSchema ns) {
            throw new AssertionError("nullable structs are not used by implemented APIs: " + ns);
        }
        if (type instanceof TaggedFields tagged) {
            Map<Integer, Object> values = new TreeMap<>();
            for (Map.Entry<Integer, Field> e : tagged.fields().entrySet()) {
                if (random.nextBoolean()) {
                    values.put(e.getKey(), randomValue(e.getValue().type, random, depth + 1));
                }
            }
            return values;
        }
        if (type instanceof ArrayOf || type instanceof CompactArrayOf) {
            Type element = type.arrayElementType().orElseThrow();
            Object[] items = new Object[depth > 6 ? 0 : random.nextInt(4)];
            for (int i = 0; i < items.length; i++) {
                items[i] = randomValue(element, random, depth + 1);
            }
            return items;
        }
        if (type == Type.BOOLEAN) {
            return random.nextBoolean();
        }
        if (type == Type.INT8) {
            return (byte) (random.nextInt(4) == 0 ? -1 : random.nextInt());
        }
        if (type == Type.INT16) {
            return (short) (random.nextInt(4) == 0 ? -1 : random.nextInt());
        }
        if (type == Type.UINT16) {
            return random.nextInt(65536);
        }
        if (type == Type.INT32) {
            return random.nextInt(4) == 0 ? -1 : random.nextInt();
        }
        if (type == Type.UNSIGNED_INT32) {
            return random.nextLong() & 0xffffffffL;
        }
        if (type == Type.INT64) {
            return random.nextInt(4) == 0 ? -1L : random.nextLong();
        }
        if (type == Type.FLOAT64) {
            return random.nextDouble();
        }
        if (type == Type.UUID) {
            return random.nextInt(4) == 0 ? Uuid.ZERO_UUID : new Uuid(random.nextLong(), random.nextLong());
        }
        if (type == Type.STRING || type == Type.COMPACT_STRING || type == Type.NULLABLE_STRING
            || type == Type.COMPACT_NULLABLE_STRING) {
            return randomString(random);
        }
        if (type == Type.BYTES || type == Type.COMPACT_BYTES || type == Type.NULLABLE_BYTES
            || type == Type.COMPACT_NULLABLE_BYTES) {
            return randomBytes(random);
        }
        if (type == Type.RECORDS || type == Type.COMPACT_RECORDS || type == Type.NULLABLE_RECORDS
            || type == Type.COMPACT_NULLABLE_RECORDS) {
            return MemoryRecords.readableRecords(randomBytes(random));
        }
        throw new AssertionError("no random generator for type " + type);
    }
}
