package io.weir.admin;

import io.weir.admin.errors.InvalidPartitionsException;
import io.weir.admin.errors.TopicExistsException;
import io.weir.admin.errors.UnknownTopicOrPartitionException;
import io.weir.broker.Broker;
import io.weir.broker.BrokerConfig;
import io.weir.common.testing.TempDirs;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Admin against a real Weir broker in this JVM (127.0.0.1, ephemeral port). */
class AdminBrokerIntegrationTest {
    private static Path dir;
    private static Broker broker;
    private static Admin admin;

    @BeforeAll
    static void start() {
        dir = TempDirs.create("admin-it");
        broker = new Broker(new BrokerConfig(Map.of("listeners", "PLAINTEXT://127.0.0.1:0", "log.dirs", dir.toString(),
            "auto.create.topics.enable", "false")));
        broker.startup();
        admin = Admin.create(Map.of("bootstrap.servers", "127.0.0.1:" + broker.boundPort(),
            "default.api.timeout.ms", "20000"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (admin != null) {
            admin.close(Duration.ofSeconds(5));
        }
        if (broker != null) {
            broker.shutdown();
            broker.awaitShutdown();
        }
        TempDirs.delete(dir);
    }

    private static Throwable failure(CompletableFuture<?> f) {
        return assertThrows(CompletionException.class, f::join).getCause();
    }

    @Test
    void shouldCreateListDescribeAndDeleteTopics() {
        CreatedTopic created = admin.createTopics(List.of(new NewTopic("it-a", 3, (short) 1))).value("it-a").join();
        assertNotNull(created.topicId());
        assertTrue(admin.listTopics().join().containsKey("it-a"));
        TopicDescription d = admin.describeTopics(List.of("it-a")).value("it-a").join();
        assertEquals(3, d.partitions().size());
        assertEquals(created.topicId(), d.topicId());
        for (TopicPartitionInfo p : d.partitions()) {
            assertEquals(0, p.leader().id());
            assertEquals(1, p.replicas().size());
            assertEquals(1, p.isr().size());
        }
        admin.deleteTopics(List.of("it-a")).all().join();
        assertFalse(admin.listTopics().join().containsKey("it-a"));
    }

    @Test
    void shouldReportTypedErrors() {
        admin.createTopics(List.of(new NewTopic("it-b", 2, (short) 1))).all().join();
        assertInstanceOf(TopicExistsException.class,
            failure(admin.createTopics(List.of(new NewTopic("it-b", 2, (short) 1))).value("it-b")));
        assertInstanceOf(UnknownTopicOrPartitionException.class,
            failure(admin.describeTopics(List.of("it-missing")).value("it-missing")));
        assertInstanceOf(UnknownTopicOrPartitionException.class,
            failure(admin.deleteTopics(List.of("it-missing")).value("it-missing")));
        assertInstanceOf(InvalidPartitionsException.class,
            failure(admin.createPartitions(Map.of("it-b", NewPartitions.increaseTo(1))).value("it-b")));
    }

    @Test
    void shouldCreatePartitions() {
        admin.createTopics(List.of(new NewTopic("it-c", 1, (short) 1))).all().join();
        admin.createPartitions(Map.of("it-c", NewPartitions.increaseTo(4))).all().join();
        assertEquals(4, admin.describeTopics(List.of("it-c")).value("it-c").join().partitions().size());
    }

    @Test
    void shouldValidateOnlyWithoutCreating() {
        admin.createTopics(List.of(new NewTopic("it-v", 1, (short) 1)), AdminOptions.defaults().validateOnly(true))
            .all().join();
        assertFalse(admin.listTopics().join().containsKey("it-v"));
    }

    @Test
    void shouldDescribeAndAlterTopicConfigs() {
        admin.createTopics(List.of(new NewTopic("it-d", 1, (short) 1).configs(Map.of("retention.ms", "60000"))))
            .all().join();
        ConfigResource r = new ConfigResource(ConfigResource.Type.TOPIC, "it-d");
        Config c = admin.describeConfigs(List.of(r)).value(r).join();
        assertEquals("60000", c.get("retention.ms").value());
        assertEquals(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, c.get("retention.ms").source());
        admin.incrementalAlterConfigs(Map.of(r, List.of(new AlterConfigOp("retention.ms", "120000",
            AlterConfigOp.OpType.SET)))).all().join();
        assertEquals("120000", admin.describeConfigs(List.of(r)).value(r).join().get("retention.ms").value());
    }

    @Test
    void shouldDescribeBrokerConfigs() {
        ConfigResource r = new ConfigResource(ConfigResource.Type.BROKER, "0");
        Config c = admin.describeConfigs(List.of(r)).value(r).join();
        assertFalse(c.entries().isEmpty());
    }

    @Test
    void shouldDescribeCluster() {
        ClusterDescription d = admin.describeCluster().join();
        assertNotNull(d.clusterId());
        assertEquals(1, d.nodes().size());
        assertEquals(broker.boundPort(), d.nodes().get(0).port());
        assertEquals(0, d.controller().id());
    }
}
