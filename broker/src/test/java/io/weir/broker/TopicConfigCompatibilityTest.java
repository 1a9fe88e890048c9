package io.weir.broker;

import io.weir.broker.testing.EmbeddedBroker;
import io.weir.broker.testing.EmbeddedBrokerExtension;
import io.weir.common.TopicPartition;
import io.weir.common.record.CompressionType;
import io.weir.common.record.MemoryRecords;
import io.weir.common.record.RecordBatch;
import io.weir.log.FetchDataInfo;
import io.weir.log.Log;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 10 bug 2: {@code compression.type} as a topic config with Kafka's semantics (the broker
 * recompresses to a named codec), every topic config name of Kafka 4.x accepted and reported, and
 * broker-level DescribeConfigs with real types and sources. Checked with kafka-clients 4.4.
 */
class TopicConfigCompatibilityTest {
    @RegisterExtension
    static final EmbeddedBrokerExtension BROKER = EmbeddedBrokerExtension.withConfig(
        Map.of(BrokerConfig.NUM_PARTITIONS, "1"));
    private static Admin admin;

    @BeforeAll
    static void start() {
        admin = admin(BROKER.embedded());
    }

    private static Admin admin(EmbeddedBroker b) {
        Properties p = new Properties();
        p.put("bootstrap.servers", b.bootstrapServers());
        return Admin.create(p);
    }

    @AfterAll
    static void stop() {
        admin.close();
    }

    /** Every topic config name kafka-clients' TopicConfig defines, plus the replication throttles kafka-configs sets. */
    private static Set<String> kafkaTopicConfigNames() throws IllegalAccessException {
        Set<String> names = new TreeSet<>();
        for (Field f : TopicConfig.class.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) && f.getName().endsWith("_CONFIG") && f.getType() == String.class) {
                names.add((String) f.get(null));
            }
        }
        names.add("leader.replication.throttled.replicas");
        names.add("follower.replication.throttled.replicas");
        return names;
    }

    private static Map<String, ConfigEntry> describe(Admin a, ConfigResource r) throws Exception {
        Config c = a.describeConfigs(List.of(r), new DescribeConfigsOptions().includeSynonyms(true)).all().get().get(r);
        Map<String, ConfigEntry> out = new HashMap<>();
        c.entries().forEach(e -> out.put(e.name(), e));
        return out;
    }

    @Test
    void shouldAcceptAndReportEveryKafkaTopicConfigName() throws Exception {
        Set<String> names = kafkaTopicConfigNames();
        assertTrue(names.size() >= 35, names.toString());
        admin.createTopics(List.of(new NewTopic("all-defaults", 1, (short) 1))).all().get();
        Map<String, ConfigEntry> defaults = describe(admin, new ConfigResource(ConfigResource.Type.TOPIC, "all-defaults"));
        for (String name : names) {
            ConfigEntry e = defaults.get(name);
            assertNotNull(e, name + " is not reported");
            assertNotNull(e.value(), name + " has no value");
            assertEquals(ConfigEntry.ConfigSource.DEFAULT_CONFIG, e.source(), name);
            assertTrue(e.type() != ConfigEntry.ConfigType.UNKNOWN, name + " has no type");
        }
        // each name is accepted at creation with the value reported as its default
        Map<String, String> all = new HashMap<>();
        for (String name : names) {
            all.put(name, defaults.get(name).value());
        }
        admin.createTopics(List.of(new NewTopic("all-set", 1, (short) 1).configs(all))).all().get();
        Map<String, ConfigEntry> set = describe(admin, new ConfigResource(ConfigResource.Type.TOPIC, "all-set"));
        for (String name : names) {
            assertEquals(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, set.get(name).source(), name);
        }
        // and altered one by one, incrementally
        ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, "all-defaults");
        Map<ConfigResource, java.util.Collection<AlterConfigOp>> ops = Map.of(r, List.of(
            new AlterConfigOp(new ConfigEntry("preallocate", "true"), AlterConfigOp.OpType.SET),
            new AlterConfigOp(new ConfigEntry("max.compaction.lag.ms", "600000"), AlterConfigOp.OpType.SET),
            new AlterConfigOp(new ConfigEntry("leader.replication.throttled.replicas", "0:0"), AlterConfigOp.OpType.SET)));
        admin.incrementalAlterConfigs(ops).all().get();
        assertEquals("true", describe(admin, r).get("preallocate").value());
        // list-typed keys take APPEND and SUBTRACT, starting from an empty default
        admin.incrementalAlterConfigs(Map.of(r, List.of(new AlterConfigOp(
            new ConfigEntry("follower.replication.throttled.replicas", "1:0"), AlterConfigOp.OpType.APPEND)))).all().get();
        assertEquals("1:0", describe(admin, r).get("follower.replication.throttled.replicas").value());
        admin.incrementalAlterConfigs(Map.of(r, List.of(new AlterConfigOp(
            new ConfigEntry("leader.replication.throttled.replicas", "2:0"), AlterConfigOp.OpType.APPEND)))).all().get();
        assertEquals("0:0,2:0", describe(admin, r).get("leader.replication.throttled.replicas").value());
        ExecutionException notList = assertThrows(ExecutionException.class, () -> admin.incrementalAlterConfigs(Map.of(r,
            List.of(new AlterConfigOp(new ConfigEntry("preallocate", "x"), AlterConfigOp.OpType.APPEND)))).all().get());
        assertInstanceOf(org.apache.kafka.common.errors.InvalidConfigurationException.class, notList.getCause());

        // a value of the wrong type is refused, naming the key
        ExecutionException bad = assertThrows(ExecutionException.class, () -> admin.createTopics(List.of(
            new NewTopic("bad-type", 1, (short) 1).configs(Map.of("preallocate", "sometimes")))).all().get());
        assertInstanceOf(org.apache.kafka.common.errors.InvalidConfigurationException.class, bad.getCause());
        assertTrue(bad.getCause().getMessage().contains("preallocate"), bad.getCause().getMessage());
        ExecutionException unknown = assertThrows(ExecutionException.class, () -> admin.createTopics(List.of(
            new NewTopic("bad-name", 1, (short) 1).configs(Map.of("no.such.config", "1")))).all().get());
        assertTrue(unknown.getCause().getMessage().contains("no.such.config"));
    }

    private static List<RecordBatch> batches(EmbeddedBroker b, String topic) throws Exception {
        Log log = b.broker().replicaManager().partition(new TopicPartition(topic, 0)).log();
        FetchDataInfo info = log.read(0, 1 << 20, Long.MAX_VALUE, true);
        List<RecordBatch> out = new ArrayList<>();
        for (RecordBatch batch : info.records().readRecords()) {
            out.add(batch);
        }
        return out;
    }

    private static void produce(EmbeddedBroker b, String topic, String codec, int count) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", b.bootstrapServers());
        p.put("compression.type", codec);
        p.put("linger.ms", "5");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < count; i++) {
                RecordHeaders headers = new RecordHeaders();
                headers.add("h", ("x" + i).getBytes(StandardCharsets.UTF_8));
                producer.send(new ProducerRecord<>(topic, 0, 1_000_000L + i, "k" + i, "value-" + i + "-".repeat(50), headers));
            }
            producer.flush();
        }
    }

    private static List<ConsumerRecord<String, String>> consume(EmbeddedBroker b, String topic, int count) {
        Properties p = new Properties();
        p.put("bootstrap.servers", b.bootstrapServers());
        p.put("auto.offset.reset", "earliest");
        p.put("enable.auto.commit", "false");
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            c.assign(List.of(new org.apache.kafka.common.TopicPartition(topic, 0)));
            long deadline = System.currentTimeMillis() + 30_000;
            while (out.size() < count && System.currentTimeMillis() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }

    private static void assertRecordsIntact(List<ConsumerRecord<String, String>> got, int count) {
        assertEquals(count, got.size());
        for (int i = 0; i < count; i++) {
            ConsumerRecord<String, String> r = got.get(i);
            assertEquals(i, r.offset());
            assertEquals("k" + i, r.key());
            assertEquals("value-" + i + "-".repeat(50), r.value());
            assertEquals(1_000_000L + i, r.timestamp());
            assertEquals("x" + i, new String(r.headers().lastHeader("h").value(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void namedCodecShouldMakeTheBrokerRecompressKeepingProducerFields() throws Exception {
        // the regression: CreateTopics answered INVALID_CONFIG "Unknown topic config name: compression.type"
        admin.createTopics(List.of(new NewTopic("to-lz4", 1, (short) 1).configs(Map.of(
            "compression.type", "lz4", "compression.lz4.level", "12")))).all().get();
        produce(BROKER.embedded(), "to-lz4", "gzip", 40);
        List<RecordBatch> stored = batches(BROKER.embedded(), "to-lz4");
        assertTrue(!stored.isEmpty());
        for (RecordBatch b : stored) {
            b.ensureValid();
            assertEquals(CompressionType.LZ4, b.compressionType());
            assertTrue(b.hasProducerId(), "the idempotent producer's id is kept");
            assertEquals(0, b.partitionLeaderEpoch());
        }
        assertEquals(0, stored.get(0).baseSequence());
        assertRecordsIntact(consume(BROKER.embedded(), "to-lz4", 40), 40);

        // uncompressed: gzip batches are stored plain
        admin.createTopics(List.of(new NewTopic("to-none", 1, (short) 1).configs(Map.of(
            "compression.type", "uncompressed")))).all().get();
        produce(BROKER.embedded(), "to-none", "zstd", 10);
        batches(BROKER.embedded(), "to-none").forEach(b -> assertEquals(CompressionType.NONE, b.compressionType()));
        assertRecordsIntact(consume(BROKER.embedded(), "to-none", 10), 10);

        // producer (the default): the producer's codec is kept, byte for byte
        admin.createTopics(List.of(new NewTopic("keep", 1, (short) 1))).all().get();
        produce(BROKER.embedded(), "keep", "snappy", 10);
        batches(BROKER.embedded(), "keep").forEach(b -> assertEquals(CompressionType.SNAPPY, b.compressionType()));

        // IncrementalAlterConfigs switches a live topic; later batches follow
        ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, "keep");
        admin.incrementalAlterConfigs(Map.of(r, List.of(new AlterConfigOp(new ConfigEntry("compression.type", "zstd"),
            AlterConfigOp.OpType.SET)))).all().get();
        produce(BROKER.embedded(), "keep", "snappy", 10);
        List<RecordBatch> after = batches(BROKER.embedded(), "keep");
        assertEquals(CompressionType.SNAPPY, after.get(0).compressionType());
        assertEquals(CompressionType.ZSTD, after.get(after.size() - 1).compressionType());
        assertEquals("zstd", describe(admin, r).get("compression.type").value());

        ExecutionException badLevel = assertThrows(ExecutionException.class, () -> admin.createTopics(List.of(
            new NewTopic("bad-level", 1, (short) 1).configs(Map.of("compression.lz4.level", "99")))).all().get());
        assertTrue(badLevel.getCause().getMessage().contains("compression.lz4.level"));
        ExecutionException badCodec = assertThrows(ExecutionException.class, () -> admin.createTopics(List.of(
            new NewTopic("bad-codec", 1, (short) 1).configs(Map.of("compression.type", "brotli")))).all().get());
        assertTrue(badCodec.getCause().getMessage().contains("compression.type"));
    }

    @Test
    void brokerCompressionTypeShouldBeEveryTopicsDefault() throws Exception {
        try (EmbeddedBroker zstd = new EmbeddedBroker(Map.of(BrokerConfig.COMPRESSION_TYPE, "zstd",
                BrokerConfig.COMPRESSION_ZSTD_LEVEL, "7")).start();
             Admin a = admin(zstd)) {
            a.createTopics(List.of(new NewTopic("t", 1, (short) 1))).all().get();
            produce(zstd, "t", "none", 10);
            batches(zstd, "t").forEach(b -> assertEquals(CompressionType.ZSTD, b.compressionType()));
            assertRecordsIntact(consume(zstd, "t", 10), 10);
            Map<String, ConfigEntry> topic = describe(a, new ConfigResource(ConfigResource.Type.TOPIC, "t"));
            assertEquals("zstd", topic.get("compression.type").value());
            assertEquals(ConfigEntry.ConfigSource.STATIC_BROKER_CONFIG, topic.get("compression.type").source());
            assertEquals("7", topic.get("compression.zstd.level").value());
            List<ConfigEntry.ConfigSynonym> syn = topic.get("compression.type").synonyms();
            assertEquals(ConfigEntry.ConfigSource.STATIC_BROKER_CONFIG, syn.get(0).source());
            assertEquals(ConfigEntry.ConfigSource.DEFAULT_CONFIG, syn.get(syn.size() - 1).source());
            assertEquals("producer", syn.get(syn.size() - 1).value());
        }
    }

    @Test
    void brokerDescribeConfigsShouldReportRealTypesAndSources() throws Exception {
        Map<String, ConfigEntry> b = describe(admin, new ConfigResource(ConfigResource.Type.BROKER, "0"));
        assertEquals(ConfigEntry.ConfigType.INT, b.get("num.partitions").type());
        assertEquals(ConfigEntry.ConfigSource.STATIC_BROKER_CONFIG, b.get("num.partitions").source());
        assertEquals(ConfigEntry.ConfigType.LIST, b.get("log.dirs").type());
        assertEquals(ConfigEntry.ConfigSource.STATIC_BROKER_CONFIG, b.get("log.dirs").source());
        assertEquals(ConfigEntry.ConfigType.BOOLEAN, b.get("auto.create.topics.enable").type());
        assertEquals(ConfigEntry.ConfigSource.DEFAULT_CONFIG, b.get("auto.create.topics.enable").source());
        assertEquals("true", b.get("auto.create.topics.enable").value());
        assertEquals(ConfigEntry.ConfigType.LONG, b.get("log.retention.bytes").type());
        assertEquals(ConfigEntry.ConfigType.STRING, b.get("compression.type").type());
        assertEquals("producer", b.get("compression.type").value());
        assertTrue(b.get("num.partitions").isReadOnly());
        assertNull(b.get("num.partitions").documentation(), "documentation only when asked");

        ConfigResource broker0 = new ConfigResource(ConfigResource.Type.BROKER, "0");
        Config withDocs = admin.describeConfigs(List.of(broker0), new DescribeConfigsOptions().includeDocumentation(true))
            .all().get().get(broker0);
        assertEquals("Partitions of an auto-created topic.", withDocs.get("num.partitions").documentation());
        admin.createTopics(List.of(new NewTopic("docs", 1, (short) 1))).all().get();
        ConfigResource docsTopic = new ConfigResource(ConfigResource.Type.TOPIC, "docs");
        Config topicDocs = admin.describeConfigs(List.of(docsTopic), new DescribeConfigsOptions().includeDocumentation(true))
            .all().get().get(docsTopic);
        assertTrue(topicDocs.get("preallocate").documentation().contains("does not act on it"));
        assertTrue(topicDocs.get("compression.type").documentation().contains("Weir applies it"));
    }

    @Test
    void aBadBatchOnARecompressingTopicFailsAsItWouldWithoutRecompression() throws Exception {
        admin.createTopics(List.of(new NewTopic("compact-lz4", 1, (short) 1).configs(Map.of(
            "compression.type", "lz4", "cleanup.policy", "compact")))).all().get();
        io.weir.common.record.RecordBatchBuilder b = new io.weir.common.record.RecordBatchBuilder(CompressionType.GZIP);
        b.append(1L, "k0".getBytes(StandardCharsets.UTF_8), "v".getBytes(StandardCharsets.UTF_8));
        b.append(2L, (byte[]) null, "keyless".getBytes(StandardCharsets.UTF_8));
        b.append(3L, "k2".getBytes(StandardCharsets.UTF_8), "v".getBytes(StandardCharsets.UTF_8));
        io.weir.protocol.message.ProduceRequest req = new io.weir.protocol.message.ProduceRequest().setAcks((short) 1)
            .setTimeoutMs(5_000).setTopicData(List.of(new io.weir.protocol.message.ProduceRequest.TopicProduceData()
                .setName("compact-lz4").setPartitionData(List.of(new io.weir.protocol.message.ProduceRequest
                    .PartitionProduceData().setIndex(0).setRecords(io.weir.protocol.Records.wrap(b.build()))))));
        java.nio.ByteBuffer frame = io.weir.protocol.MessageCodec.serializeRequest(io.weir.protocol.RequestHeader.of(
            io.weir.protocol.ApiKeys.PRODUCE, (short) 9, 1, "raw"), req);
        io.weir.protocol.message.ProduceResponse.PartitionProduceResponse r;
        try (java.net.Socket s = new java.net.Socket("127.0.0.1", BROKER.port())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(frame.array(), 0, frame.limit());
            java.io.DataInputStream in = new java.io.DataInputStream(s.getInputStream());
            byte[] resp = new byte[in.readInt()];
            in.readFully(resp);
            r = ((io.weir.protocol.message.ProduceResponse) io.weir.protocol.MessageCodec.parseResponse(
                io.weir.protocol.ApiKeys.PRODUCE, (short) 9, java.nio.ByteBuffer.wrap(resp)).body())
                .responses().get(0).partitionResponses().get(0);
        }
        assertEquals(io.weir.protocol.Errors.INVALID_RECORD.code(), r.errorCode());
        assertEquals(1, r.recordErrors().size());
        assertEquals(1, r.recordErrors().get(0).batchIndex());
        assertEquals(0, BROKER.broker().replicaManager().partition(new TopicPartition("compact-lz4", 0)).log().logEndOffset());
    }
}
