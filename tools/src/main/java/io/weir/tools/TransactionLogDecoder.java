package io.weir.tools;

import io.weir.common.utils.Json;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns the records of Weir's {@code __transaction_state} into the JSON that Kafka's
 * {@code kafka-dump-log.sh --transaction-log-decoder} prints for its own transaction log:
 * key {@code {"type":"0","data":{"transactionalId":...}}}, value
 * {@code {"version":"1","data":{"producerId":...,"producerEpoch":...,"transactionTimeoutMs":...,
 * "transactionStatus":"Ongoing","transactionPartitions":[{"topic":...,"partitionIds":[...]}],
 * "transactionLastUpdateTimestampMs":...,"transactionStartTimestampMs":...}}}, a tombstone as
 * {@code <DELETE>}. As in Kafka, {@code previousProducerId}/{@code nextProducerId} appear only when
 * set (not -1) and {@code clientTransactionVersion} only when not 0; Weir's {@code lastProducerEpoch}
 * is shown the same way, after {@code producerEpoch}.
 *
 * <p>The bytes are the broker's ({@code io.weir.broker.transaction.TransactionRecords}); tools do not
 * depend on the broker, so the layout is read here, and a test writes records with the broker's own
 * serde to keep the two in step:
 * <pre>
 * key    int16 version=0 | string transactionalId
 * value  int16 version=1 | int64 producerId | int64 previousProducerId | int64 nextProducerId
 *        | int16 producerEpoch | int16 lastProducerEpoch | int32 txnTimeoutMs | int8 state
 *        | int32 nTopics × (string topic | int32 n × int32 partition)
 *        | int64 txnLastUpdateTimestampMs | int64 txnStartTimestampMs | int8 clientTransactionVersion
 * </pre>
 * Integers are big-endian; a string is an int16 length and UTF-8 bytes. Stateless.
 */
final class TransactionLogDecoder {
    static final short KEY_VERSION = 0;
    static final short VALUE_VERSION = 1;
    /** Kafka's names of the stored state ids (they are what DescribeTransactions shows). */
    private static final String[] STATES = {"Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit",
        "CompleteAbort", "Dead", "PrepareEpochFence"};

    /** The decoder DumpLogSegments uses for {@code --transaction-log-decoder}. */
    static final RecordDecoder INSTANCE = TransactionLogDecoder::decode;

    private TransactionLogDecoder() {
    }

    /** See {@link RecordDecoder#decode}. */
    static RecordDecoder.Decoded decode(long offset, ByteBuffer key, ByteBuffer value) {
        if (key == null) {
            return new RecordDecoder.Decoded("Failed to decode message at offset " + offset
                + " using the specified decoder (message had a missing key)", null);
        }
        try {
            ByteBuffer k = key.duplicate();
            short type = k.getShort();
            if (type != KEY_VERSION) {
                return new RecordDecoder.Decoded("Unknown record type " + type + " at offset " + offset + ", skipping.", null);
            }
            Map<String, Object> keyData = new LinkedHashMap<>();
            keyData.put("transactionalId", string(k));
            Map<String, Object> keyJson = new LinkedHashMap<>();
            keyJson.put("type", String.valueOf(type));
            keyJson.put("data", keyData);
            String payload = value == null ? "<DELETE>" : value(value.duplicate());
            return new RecordDecoder.Decoded(Json.write(keyJson), payload);
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            return new RecordDecoder.Decoded("Error at offset " + offset + ", skipping. " + describe(e), null);
        }
    }

    private static String value(ByteBuffer b) {
        short version = b.getShort();
        if (version != VALUE_VERSION) {
            throw new IllegalArgumentException("Unknown value version " + version);
        }
        long producerId = b.getLong();
        long previousProducerId = b.getLong();
        long nextProducerId = b.getLong();
        short producerEpoch = b.getShort();
        short lastProducerEpoch = b.getShort();
        int timeoutMs = b.getInt();
        byte state = b.get();
        int topics = b.getInt();
        if (topics < 0 || topics > b.remaining()) {
            throw new IllegalArgumentException("bad topic count " + topics);
        }
        List<Object> partitions = new ArrayList<>(topics);
        for (int i = 0; i < topics; i++) {
            String topic = string(b);
            int n = b.getInt();
            if (n < 0 || n > b.remaining() / 4) {
                throw new IllegalArgumentException("bad partition count " + n + " for topic " + topic);
            }
            List<Object> ids = new ArrayList<>(n);
            for (int j = 0; j < n; j++) {
                ids.add(b.getInt());
            }
            Map<String, Object> p = new LinkedHashMap<>();
            p.put("topic", topic);
            p.put("partitionIds", ids);
            partitions.add(p);
        }
        long lastUpdateMs = b.getLong();
        long startMs = b.getLong();
        byte clientTransactionVersion = b.get();

        Map<String, Object> data = new LinkedHashMap<>();
        data.put("producerId", producerId);
        if (previousProducerId != -1) {
            data.put("previousProducerId", previousProducerId);
        }
        if (nextProducerId != -1) {
            data.put("nextProducerId", nextProducerId);
        }
        data.put("producerEpoch", producerEpoch);
        if (lastProducerEpoch != -1) {
            data.put("lastProducerEpoch", lastProducerEpoch);
        }
        data.put("transactionTimeoutMs", timeoutMs);
        data.put("transactionStatus", state >= 0 && state < STATES.length ? STATES[state] : "Unknown(" + state + ")");
        data.put("transactionPartitions", partitions);
        data.put("transactionLastUpdateTimestampMs", lastUpdateMs);
        data.put("transactionStartTimestampMs", startMs);
        if (clientTransactionVersion != 0) {
            data.put("clientTransactionVersion", clientTransactionVersion);
        }
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("version", String.valueOf(version));
        json.put("data", data);
        return Json.write(json);
    }

    private static String string(ByteBuffer b) {
        short len = b.getShort();
        if (len < 0) {
            throw new IllegalArgumentException("null string");
        }
        byte[] s = new byte[len];
        b.get(s);
        return new String(s, StandardCharsets.UTF_8);
    }

    static String describe(RuntimeException e) {
        return e instanceof BufferUnderflowException ? "the record ends too early" : e.getMessage();
    }
}
