package io.weir.compat.flink;

import io.weir.broker.BrokerConfig;
import io.weir.broker.testing.EmbeddedBrokerExtension;
import org.apache.flink.api.common.RuntimeExecutionMode;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.serialization.SimpleStringSchema;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.common.state.CheckpointListener;
import org.apache.flink.api.connector.source.util.ratelimit.RateLimiterStrategy;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.datagen.source.DataGeneratorSource;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.sink.TransactionNamingStrategy;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.graph.StreamGraph;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Apache Flink's {@code KafkaSink} (flink-connector-kafka 5.0 on Flink 2.2, with the kafka-clients it pins) in
 * exactly-once mode against a Weir broker, unchanged: a job in a local mini cluster, checkpointing on, writes a
 * bounded sequence through transactions that the sink prepares at each checkpoint and commits when the checkpoint
 * completes. A read_committed consumer then finds every number exactly once. The second test fails the job once
 * after a checkpoint: Flink restarts it from that checkpoint, commits the transactions the checkpoint holds by
 * resuming them with their producer id and epoch (the connector sets them into kafka-clients' producer by
 * reflection), aborts the one that was open when the job failed, and the read_committed output still holds each
 * number once.
 */
class FlinkKafkaSinkExactlyOnceTest {
    private static final int PARTITIONS = 3;
    private static final int PARALLELISM = 2;
    private static final long RECORDS = 3_000;
    /** The source emits this many records (over all its subtasks) per checkpoint, so the job spans many transactions. */
    private static final int RECORDS_PER_CHECKPOINT = 300;
    @RegisterExtension
    static final EmbeddedBrokerExtension BROKER = EmbeddedBrokerExtension.withConfig(
        Map.of(BrokerConfig.GROUP_INITIAL_REBALANCE_DELAY_MS, "0",
            "transaction.state.log.num.partitions", "3", "offsets.topic.num.partitions", "3"));
    /** One mini cluster for all the jobs here: starting one takes several seconds. */
    private static MiniCluster flink;

    @BeforeAll
    static void start() throws Exception {
        flink = new MiniCluster(new MiniClusterConfiguration.Builder()
            .setNumTaskManagers(1)
            .setNumSlotsPerTaskManager(PARALLELISM)
            .withRandomPorts()
            .build());
        flink.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (flink != null) {
            flink.close();
        }
    }

    @Test
    void theExactlyOnceSinkShouldWriteEveryRecordOnce() throws Exception {
        String topic = "flink-eos-out";
        createTopic(topic);
        StreamExecutionEnvironment env = environment(0);
        env.fromSource(source(), WatermarkStrategy.noWatermarks(), "numbers")
            .map(n -> Long.toString(n)).returns(Types.STRING)
            .sinkTo(sink(topic, "weir-flink-once", TransactionNamingStrategy.DEFAULT));
        run(env, "flink-eos-to-weir");

        assertEachNumberOnce(readCommitted(topic));
    }

    /**
     * INCREMENTING names a fresh transactional id per checkpoint and, on restart, aborts lingering ones by probing
     * ids with InitProducerId until one answers epoch 0 (never used); POOLING reuses ids and finds lingering ones
     * with DescribeProducers on the output topic and ListTransactions filtered by those producer ids and ONGOING.
     */
    @ParameterizedTest
    @EnumSource(TransactionNamingStrategy.class)
    void aRestartFromACheckpointShouldLeaveNoDuplicates(TransactionNamingStrategy naming) throws Exception {
        String topic = "flink-eos-restart-" + naming.name().toLowerCase(Locale.ROOT);
        createTopic(topic);
        FailOnceAfterCheckpoint.reset();
        StreamExecutionEnvironment env = environment(1);
        env.fromSource(source(), WatermarkStrategy.noWatermarks(), "numbers")
            .map(new FailOnceAfterCheckpoint()).returns(Types.STRING)
            .sinkTo(sink(topic, "weir-flink-" + naming.name().toLowerCase(Locale.ROOT), naming));
        run(env, "flink-eos-restart-to-weir");

        assertTrue(FailOnceAfterCheckpoint.FAILED.get(), "the job never failed, so the restart was not tested");
        // whether the records of the transaction that was open at the failure reached the log before the failed
        // task closed its producer is a race, so the test checks only what must hold either way
        assertEachNumberOnce(readCommitted(topic));
    }

    private static StreamExecutionEnvironment environment(int restarts) {
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, restarts == 0 ? "none" : "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, restarts);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ZERO);
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(PARALLELISM);
        env.setRuntimeMode(RuntimeExecutionMode.STREAMING);
        env.enableCheckpointing(50);
        return env;
    }

    /** Runs the job on the shared mini cluster until it finishes; a job that fails for good throws. */
    private static void run(StreamExecutionEnvironment env, String name) throws Exception {
        StreamGraph graph = env.getStreamGraph();
        graph.setJobName(name);
        flink.executeJobBlocking(graph.getJobGraph());
    }

    private static DataGeneratorSource<Long> source() {
        return new DataGeneratorSource<>(n -> n, RECORDS, RateLimiterStrategy.perCheckpoint(RECORDS_PER_CHECKPOINT),
            Types.LONG);
    }

    private static KafkaSink<String> sink(String topic, String transactionalIdPrefix,
                                          TransactionNamingStrategy naming) {
        return KafkaSink.<String>builder()
            .setBootstrapServers(BROKER.bootstrapServers())
            .setRecordSerializer(KafkaRecordSerializationSchema.builder()
                .setTopic(topic)
                .setValueSerializationSchema(new SimpleStringSchema())
                .build())
            .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
            .setTransactionalIdPrefix(transactionalIdPrefix)
            .setTransactionNamingStrategy(naming)
            .setProperty(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "60000")
            .build();
    }

    private static void createTopic(String topic) throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers());
        try (Admin admin = Admin.create(p)) {
            admin.createTopics(List.of(new NewTopic(topic, PARTITIONS, (short) 1))).all().get();
        }
    }

    private static void assertEachNumberOnce(List<String> values) {
        Map<Long, Integer> counts = new HashMap<>();
        for (String v : values) {
            counts.merge(Long.parseLong(v), 1, Integer::sum);
        }
        List<Long> duplicated = counts.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey)
            .sorted().limit(10).toList();
        assertTrue(duplicated.isEmpty(), "numbers committed more than once, e.g. " + duplicated);
        for (long n = 0; n < RECORDS; n++) {
            assertTrue(counts.containsKey(n), "number " + n + " is missing from the committed output");
        }
        assertEquals(RECORDS, values.size());
    }

    private static List<String> readCommitted(String topic) {
        return readAll(topic, true);
    }

    /**
     * Every value from the beginning to the end (the LSO for read_committed: once the job has finished, every
     * transaction has ended, and the end is reached when the LSO has caught up with the high watermark).
     */
    private static List<String> readAll(String topic, boolean readCommitted) {
        List<TopicPartition> tps = new ArrayList<>();
        for (int i = 0; i < PARTITIONS; i++) {
            tps.add(new TopicPartition(topic, i));
        }
        try (KafkaConsumer<String, String> c = consumer(readCommitted);
             KafkaConsumer<String, String> u = consumer(false)) {
            c.assign(tps);
            c.seekToBeginning(tps);
            long deadline = System.currentTimeMillis() + 30_000;
            Map<TopicPartition, Long> end = c.endOffsets(tps);
            while (readCommitted && !end.equals(u.endOffsets(tps))) {
                assertTrue(System.currentTimeMillis() < deadline, "the LSO of " + topic + " stays at " + end);
                end = c.endOffsets(tps);
            }
            Map<TopicPartition, Long> last = end;
            List<String> out = new ArrayList<>();
            while (tps.stream().anyMatch(tp -> c.position(tp) < last.get(tp))) {
                assertTrue(System.currentTimeMillis() < deadline, "did not reach the end of " + topic + ": " + last);
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) {
                    out.add(r.value());
                }
            }
            return out;
        }
    }

    private static KafkaConsumer<String, String> consumer(boolean readCommitted) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, readCommitted ? "read_committed" : "read_uncommitted");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    /**
     * Turns numbers into strings, and throws once: at the first record after a checkpoint has completed and a
     * few records have gone into the next transaction. The mini cluster runs in this JVM on this class loader, so
     * the once-only flag is a static that survives the restart.
     */
    static final class FailOnceAfterCheckpoint implements MapFunction<Long, String>, CheckpointListener {
        static final AtomicBoolean FAILED = new AtomicBoolean();
        private static final AtomicLong RECORDS_AFTER_CHECKPOINT = new AtomicLong(-1);

        static void reset() {
            FAILED.set(false);
            RECORDS_AFTER_CHECKPOINT.set(-1);
        }

        @Override
        public String map(Long n) {
            if (!FAILED.get() && RECORDS_AFTER_CHECKPOINT.get() >= 0
                && RECORDS_AFTER_CHECKPOINT.incrementAndGet() > 20 && FAILED.compareAndSet(false, true)) {
                throw new IllegalStateException("failing once after a checkpoint, at " + n);
            }
            return Long.toString(n);
        }

        @Override
        public void notifyCheckpointComplete(long checkpointId) {
            RECORDS_AFTER_CHECKPOINT.compareAndSet(-1, 0);
        }
    }
}
