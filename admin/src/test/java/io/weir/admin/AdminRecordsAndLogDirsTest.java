package io.weir.admin;

import io.weir.admin.errors.PolicyViolationException;
import io.weir.admin.errors.UnknownTopicOrPartitionException;
import io.weir.broker.Broker;
import io.weir.broker.BrokerConfig;
import io.weir.common.TopicPartition;
import io.weir.common.testing.TempDirs;
import io.weir.protocol.ApiException;
import io.weir.protocol.Errors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Weir's Admin: deleteRecords, describeLogDirs, legacy alterConfigs and config synonyms, against a real broker. */
class AdminRecordsAndLogDirsTest {
    private static Path dir;
    private static Broker broker;
    private static Admin admin;

    @BeforeAll
    static void start() {
        dir = TempDirs.create("admin-records");
        broker = new Broker(new BrokerConfig(Map.of("listeners", "PLAINTEXT://127.0.0.1:0", "log.dirs", dir.toString(),
            "auto.create.topics.enable", "false")));
        broker.startup();
        admin = Admin.create(Map.of("bootstrap.servers", "127.0.0.1:" + broker.boundPort(),
            "default.api.timeout.ms", "20000"));
    }

    @AfterAll
    static void stop() throws Exception {
        admin.close(Duration.ofSeconds(5));
        broker.shutdown();
        broker.awaitShutdown();
        TempDirs.delete(dir);
    }

    private static Throwable failure(CompletableFuture<?> f) {
        return assertThrows(CompletionException.class, f::join).getCause();
    }

    private static void produce(String topic, int count) throws Exception {
        Properties p = new Properties();
        p.put("bootstrap.servers", "127.0.0.1:" + broker.boundPort());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < count; i++) {
                producer.send(new ProducerRecord<>(topic, 0, "k" + i, "v" + i)).get();
            }
        }
    }

    @Test
    void deleteRecordsShouldReturnLowWatermarksAndTypedErrors() throws Exception {
        admin.createTopics(List.of(new NewTopic("del", 1, (short) 1), new NewTopic("del-compact", 1, (short) 1)
            .configs(Map.of("cleanup.policy", "compact")))).all().join();
        produce("del", 6);
        TopicPartition tp = new TopicPartition("del", 0);
        assertEquals(4L, admin.deleteRecords(Map.of(tp, 4L)).value(tp).join());
        assertEquals(4L, admin.listOffsets(Map.of(tp, OffsetSpec.earliest())).value(tp).join().offset());
        assertEquals(6L, admin.deleteRecords(Map.of(tp, -1L)).value(tp).join());
        ApiException past = (ApiException) failure(admin.deleteRecords(Map.of(tp, 7L)).value(tp));
        assertEquals(Errors.OFFSET_OUT_OF_RANGE, past.error());
        TopicPartition compacted = new TopicPartition("del-compact", 0);
        assertInstanceOf(PolicyViolationException.class, failure(admin.deleteRecords(Map.of(compacted, 0L)).value(compacted)));
        TopicPartition missing = new TopicPartition("del", 3);
        assertInstanceOf(UnknownTopicOrPartitionException.class, failure(admin.deleteRecords(Map.of(missing, 0L)).value(missing)));
    }

    @Test
    void describeLogDirsShouldListReplicasWithSizes() throws Exception {
        admin.createTopics(List.of(new NewTopic("dirs", 2, (short) 1))).all().join();
        produce("dirs", 3);
        Map<String, LogDirDescription> dirs = admin.describeLogDirs(List.of(0)).value(0).join();
        assertEquals(1, dirs.size());
        Map.Entry<String, LogDirDescription> d = dirs.entrySet().iterator().next();
        assertEquals(dir.toAbsolutePath().normalize().toString(), d.getKey());
        assertNull(d.getValue().error());
        ReplicaInfo p0 = d.getValue().replicaInfos().get(new TopicPartition("dirs", 0));
        assertTrue(p0.size() > 0);
        assertEquals(0, p0.offsetLag());
        assertFalse(p0.isFuture());
        assertEquals(0, d.getValue().replicaInfos().get(new TopicPartition("dirs", 1)).size());
        assertTrue(d.getValue().totalBytes() > 0);
    }

    @Test
    void legacyAlterConfigsShouldReplaceOverridesAndDescribeShouldCarrySynonyms() {
        admin.createTopics(List.of(new NewTopic("legacy", 1, (short) 1).configs(Map.of("retention.ms", "1000")))).all().join();
        ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, "legacy");
        admin.alterConfigs(Map.of(r, List.of(new ConfigEntry("segment.ms", "60000")))).all().join();
        Config c = admin.describeConfigs(List.of(r)).value(r).join();
        ConfigEntry segmentMs = c.entries().stream().filter(e -> e.name().equals("segment.ms")).findFirst().orElseThrow();
        assertEquals("60000", segmentMs.value());
        assertEquals(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, segmentMs.source());
        assertEquals(List.of(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, ConfigEntry.ConfigSource.DEFAULT_CONFIG),
            segmentMs.synonyms().stream().map(ConfigEntry.ConfigSynonym::source).toList());
        assertEquals("log.roll.ms", segmentMs.synonyms().get(1).name());
        ConfigEntry retention = c.entries().stream().filter(e -> e.name().equals("retention.ms")).findFirst().orElseThrow();
        assertEquals(ConfigEntry.ConfigSource.DEFAULT_CONFIG, retention.source());
    }
}
