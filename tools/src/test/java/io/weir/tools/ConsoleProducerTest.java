package io.weir.tools;

import io.weir.broker.testing.EmbeddedBrokerExtension;
import io.weir.producer.WeirProducer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.BeforeAll;
import io.weir.tools.ToolRun.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConsoleProducerTest {
    @RegisterExtension
    static final EmbeddedBrokerExtension BROKER = EmbeddedBrokerExtension.withDefaults();

    @BeforeAll
    static void start() throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic("lines", 1, (short) 1), new NewTopic("keyed", 1, (short) 1))).all().get();
        }
    }

    private static Result run(String stdin, String... args) {
        return ToolRun.capture((out, err) -> ConsoleProducer.run(args,
            new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)), out, err, WeirProducer::new));
    }

    private static List<ConsumerRecord<String, String>> read(String topic, int expected) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers());
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
            TopicPartition tp = new TopicPartition(topic, 0);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long deadline = System.currentTimeMillis() + 60_000;
            while (out.size() < expected && System.currentTimeMillis() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }

    @Test
    void shouldSendEachLineAsARecord() {
        Result r = run("one\ntwo\nthree\n", "--bootstrap-server", BROKER.bootstrapServers(), "--topic", "lines",
            "--compression-codec", "--timeout", "10");
        assertEquals(0, r.status(), r.err());
        List<ConsumerRecord<String, String>> recs = read("lines", 3);
        assertEquals(List.of("one", "two", "three"), recs.stream().map(ConsumerRecord::value).toList());
    }

    @Test
    void shouldParseKeysWithSeparatorAndTakeProducerConfigFromFileAndFlags() throws Exception {
        Path cfg = Files.createTempFile("producer", ".properties");
        Files.writeString(cfg, "linger.ms=10\ncompression.type=lz4\n");
        Result r = run("a:1\nb:2:x\n", "--broker-list", BROKER.bootstrapServers(), "--topic", "keyed",
            "--property", "parse.key=true", "--property", "key.separator=:", "--producer.config", cfg.toString(),
            "--producer-property", "acks=1");
        Files.delete(cfg);
        assertEquals(0, r.status(), r.err());
        List<ConsumerRecord<String, String>> recs = read("keyed", 2);
        assertEquals("a", recs.get(0).key());
        assertEquals("1", recs.get(0).value());
        assertEquals("b", recs.get(1).key());
        assertEquals("2:x", recs.get(1).value());
    }

    @Test
    void shouldPrintUsageAndFailOnBadFlags() {
        Result r = run("", "--bootstrap-server", "x:1", "--topic", "t", "--no-such-flag");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("--no-such-flag") && r.err().contains("Usage"), r.err());
        Result missing = run("", "--topic", "t");
        assertEquals(1, missing.status());
        assertTrue(missing.err().contains("--bootstrap-server"), missing.err());
        Result badProp = run("", "--bootstrap-server", "127.0.0.1:1", "--topic", "t", "--producer-property", "lingerms=5");
        assertEquals(1, badProp.status());
        assertTrue(badProp.err().contains("lingerms"), badProp.err());
    }
}
