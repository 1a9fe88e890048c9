package io.weir.compat.kafka3;

import io.weir.broker.BrokerConfig;
import io.weir.broker.testing.EmbeddedBrokerExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.admin.DeletedRecords;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.ReplicaInfo;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.ConsumerGroupState;
import org.apache.kafka.common.ElectionType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.ElectionNotNeededException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.AppInfoParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Apache kafka-clients 3.9 (the last 3.x line, still what many applications run) against a Weir broker: a producer
 * with its defaults (idempotent, acks=all), a consumer group that commits, a pattern subscription, and the AdminClient
 * calls for topics, the cluster and consumer groups. The 4.x clients are tested in the broker module.
 */
class KafkaClients3CompatibilityTest {
    @RegisterExtension
    static final EmbeddedBrokerExtension BROKER = EmbeddedBrokerExtension.withConfig(
        Map.of(BrokerConfig.GROUP_INITIAL_REBALANCE_DELAY_MS, "0"));

    private static Admin admin() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers());
        return Admin.create(p);
    }

    /** Nothing but the bootstrap address: 3.x defaults to enable.idempotence=true and acks=all. */
    private static KafkaProducer<String, String> defaultProducer() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers());
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    private static KafkaConsumer<String, String> groupConsumer(String group) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    private static List<ConsumerRecord<String, String>> pollUntil(KafkaConsumer<String, String> c, int count) {
        List<ConsumerRecord<String, String>> got = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (got.size() < count && System.nanoTime() < deadline) {
            c.poll(Duration.ofMillis(200)).forEach(got::add);
        }
        return got;
    }

    @Test
    void theClasspathShouldHoldKafkaClients3() {
        assertTrue(AppInfoParser.getVersion().startsWith("3.9."), AppInfoParser.getVersion());
    }

    @Test
    void defaultProducerAndGroupConsumerShouldRoundTripAndCommit() throws Exception {
        String topic = "k3-rt";
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get();
        }
        int n = 600;
        List<Future<RecordMetadata>> acks = new ArrayList<>();
        try (KafkaProducer<String, String> p = defaultProducer()) {
            for (int i = 0; i < n; i++) {
                acks.add(p.send(new ProducerRecord<>(topic, "k" + i, "v" + i)));
            }
            p.flush();
        }
        Map<Integer, Long> nextOffset = new HashMap<>();
        for (Future<RecordMetadata> f : acks) {
            RecordMetadata md = f.get();
            long expected = nextOffset.getOrDefault(md.partition(), 0L);
            assertEquals(expected, md.offset(), "offsets of one partition are dense and in send order");
            nextOffset.put(md.partition(), expected + 1);
        }

        try (KafkaConsumer<String, String> c = groupConsumer("k3-group")) {
            c.subscribe(List.of(topic));
            List<ConsumerRecord<String, String>> got = pollUntil(c, n);
            assertEquals(n, got.size());
            Map<String, String> byKey = got.stream()
                    .collect(Collectors.toMap(ConsumerRecord::key, ConsumerRecord::value));
            for (int i = 0; i < n; i++) {
                assertEquals("v" + i, byKey.get("k" + i));
            }
            c.commitSync();
            for (int partition = 0; partition < 3; partition++) {
                TopicPartition tp = new TopicPartition(topic, partition);
                assertEquals(nextOffset.getOrDefault(partition, 0L), c.committed(Set.of(tp)).get(tp).offset());
            }
        }
        // a new member of the group starts where the group committed: nothing left to read
        try (KafkaConsumer<String, String> c = groupConsumer("k3-group")) {
            c.subscribe(List.of(topic));
            try (KafkaProducer<String, String> p = defaultProducer()) {
                p.send(new ProducerRecord<>(topic, 0, "after", "commit")).get();
            }
            List<ConsumerRecord<String, String>> got = pollUntil(c, 1);
            assertEquals(1, got.size());
            assertEquals("after", got.get(0).key());
        }
    }

    @Test
    void patternSubscriptionShouldFindMatchingTopics() throws Exception {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic("k3-rx-a", 1, (short) 1), new NewTopic("k3-rx-b", 2, (short) 1),
                    new NewTopic("k3-other", 1, (short) 1))).all().get();
        }
        try (KafkaProducer<String, String> p = defaultProducer()) {
            for (String t : List.of("k3-rx-a", "k3-rx-b", "k3-other")) {
                p.send(new ProducerRecord<>(t, "key", t)).get();
            }
        }
        try (KafkaConsumer<String, String> c = groupConsumer("k3-rx-group")) {
            c.subscribe(Pattern.compile("k3-rx-.*"));
            List<ConsumerRecord<String, String>> got = pollUntil(c, 2);
            assertEquals(Set.of("k3-rx-a", "k3-rx-b"),
                    got.stream().map(ConsumerRecord::topic).collect(Collectors.toSet()));
            assertEquals(Set.of("k3-rx-a", "k3-rx-b"), c.subscription());
        }
    }

    @Test
    void adminShouldManageTopicsAndDescribeTheCluster() throws Exception {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic("k3-admin", 2, (short) 1)
                    .configs(Map.of("retention.ms", "3600000")))).all().get();
            ExecutionException dup = assertThrows(ExecutionException.class,
                    () -> admin.createTopics(List.of(new NewTopic("k3-admin", 1, (short) 1))).all().get());
            assertInstanceOf(TopicExistsException.class, dup.getCause());
            assertTrue(admin.listTopics().names().get().contains("k3-admin"));

            TopicDescription d = admin.describeTopics(List.of("k3-admin")).allTopicNames().get().get("k3-admin");
            assertEquals(2, d.partitions().size());
            assertEquals(0, d.partitions().get(1).leader().id());
            assertEquals(1, d.partitions().get(1).isr().size());

            ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, "k3-admin");
            Config cfg = admin.describeConfigs(List.of(res)).all().get().get(res);
            assertEquals("3600000", cfg.get("retention.ms").value());
            assertEquals(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, cfg.get("retention.ms").source());
            admin.incrementalAlterConfigs(Map.of(res, List.of(new AlterConfigOp(
                    new ConfigEntry("retention.ms", "7200000"), AlterConfigOp.OpType.SET)))).all().get();
            assertEquals("7200000",
                    admin.describeConfigs(List.of(res)).all().get().get(res).get("retention.ms").value());

            admin.createPartitions(Map.of("k3-admin", NewPartitions.increaseTo(4))).all().get();
            assertEquals(4, admin.describeTopics(List.of("k3-admin")).allTopicNames().get().get("k3-admin")
                    .partitions().size());

            DescribeClusterResult cluster = admin.describeCluster();
            assertEquals(1, cluster.nodes().get().size());
            assertEquals(0, cluster.controller().get().id());
            assertFalse(cluster.clusterId().get().isEmpty());

            admin.deleteTopics(List.of("k3-admin")).all().get();
            assertFalse(admin.listTopics().names().get().contains("k3-admin"));
            ExecutionException gone = assertThrows(ExecutionException.class,
                    () -> admin.deleteTopics(List.of("k3-admin")).all().get());
            assertInstanceOf(UnknownTopicOrPartitionException.class, gone.getCause());
        }
    }

    @Test
    void adminShouldListDescribeAlterAndDeleteConsumerGroups() throws Exception {
        String topic = "k3-groups";
        try (KafkaProducer<String, String> p = defaultProducer()) {
            for (int i = 0; i < 5; i++) {
                p.send(new ProducerRecord<>(topic, 0, "k" + i, "v" + i)).get();
            }
        }
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin admin = admin()) {
            try (KafkaConsumer<String, String> c = groupConsumer("k3-admin-group")) {
                c.subscribe(List.of(topic));
                assertEquals(5, pollUntil(c, 5).size());
                c.commitSync();

                ConsumerGroupDescription live = admin.describeConsumerGroups(List.of("k3-admin-group"))
                        .describedGroups().get("k3-admin-group").get();
                assertEquals(ConsumerGroupState.STABLE, live.state());
                assertEquals(1, live.members().size());
                assertEquals(Set.of(tp), live.members().iterator().next().assignment().topicPartitions());
            }
            Set<String> listed = admin.listConsumerGroups().all().get().stream()
                    .map(ConsumerGroupListing::groupId).collect(Collectors.toSet());
            assertTrue(listed.contains("k3-admin-group"), listed.toString());
            assertEquals(ConsumerGroupState.EMPTY, admin.describeConsumerGroups(List.of("k3-admin-group"))
                    .describedGroups().get("k3-admin-group").get().state());

            Map<TopicPartition, OffsetAndMetadata> committed =
                    admin.listConsumerGroupOffsets("k3-admin-group").partitionsToOffsetAndMetadata().get();
            assertEquals(5L, committed.get(tp).offset());
            admin.alterConsumerGroupOffsets("k3-admin-group", Map.of(tp, new OffsetAndMetadata(2L))).all().get();
            assertEquals(2L, admin.listConsumerGroupOffsets("k3-admin-group").partitionsToOffsetAndMetadata().get()
                    .get(tp).offset());
            admin.deleteConsumerGroupOffsets("k3-admin-group", Set.of(tp)).all().get();
            assertFalse(admin.listConsumerGroupOffsets("k3-admin-group").partitionsToOffsetAndMetadata().get()
                    .containsKey(tp));

            admin.deleteConsumerGroups(List.of("k3-admin-group")).all().get();
            Set<String> left = admin.listConsumerGroups().all().get().stream()
                    .map(ConsumerGroupListing::groupId).collect(Collectors.toSet());
            assertFalse(left.contains("k3-admin-group"), left.toString());
        }
    }

    @Test
    void adminShouldDeleteRecordsBelowAnOffset() throws Exception {
        TopicPartition tp = new TopicPartition("k3-delete-records", 0);
        try (KafkaProducer<String, String> p = defaultProducer()) {
            for (int i = 0; i < 10; i++) {
                p.send(new ProducerRecord<>(tp.topic(), 0, "k" + i, "v" + i)).get();
            }
        }
        try (Admin admin = admin()) {
            DeletedRecords deleted = admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(4L)))
                    .lowWatermarks().get(tp).get();
            assertEquals(4L, deleted.lowWatermark());
        }
        try (KafkaConsumer<String, String> c = groupConsumer("k3-delete-records-reader")) {
            assertEquals(4L, c.beginningOffsets(Set.of(tp)).get(tp));
            assertEquals(10L, c.endOffsets(Set.of(tp)).get(tp));
        }
    }

    @Test
    void adminShouldDescribeLogDirs() throws Exception {
        TopicPartition tp = new TopicPartition("k3-log-dirs", 0);
        try (KafkaProducer<String, String> p = defaultProducer()) {
            p.send(new ProducerRecord<>(tp.topic(), 0, "k", "v")).get();
        }
        try (Admin admin = admin()) {
            Map<String, LogDirDescription> dirs = admin.describeLogDirs(List.of(0)).allDescriptions().get().get(0);
            LogDirDescription dir = dirs.get(BROKER.logDir().toString());
            assertTrue(dir != null && dir.error() == null, dirs.toString());
            ReplicaInfo replica = dir.replicaInfos().get(tp);
            assertTrue(replica.size() > 0, replica.toString());
            assertEquals(0L, replica.offsetLag());
            assertFalse(replica.isFuture());
        }
    }

    @Test
    void adminShouldFindNoElectionNeededOnOneBroker() throws Exception {
        TopicPartition tp = new TopicPartition("k3-election", 0);
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(tp.topic(), 1, (short) 1))).all().get();
            Optional<Throwable> result =
                    admin.electLeaders(ElectionType.PREFERRED, Set.of(tp)).partitions().get().get(tp);
            assertTrue(result.isPresent());
            assertInstanceOf(ElectionNotNeededException.class, result.get());
        }
    }
}
