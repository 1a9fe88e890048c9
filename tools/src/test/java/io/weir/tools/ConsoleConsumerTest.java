package io.weir.tools;

import io.weir.broker.testing.EmbeddedBrokerExtension;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import io.weir.tools.ToolRun.Result;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Flag errors without a server, then the console consumer end to end against a real broker. */
@Timeout(120)
class ConsoleConsumerTest {
    @RegisterExtension
    static final EmbeddedBrokerExtension BROKER = EmbeddedBrokerExtension.withDefaults();

    @BeforeAll
    static void start() throws Exception {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic("console", 2, (short) 1))).all().get();
        }
        Map<String, Object> pp = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, BROKER.bootstrapServers(),
            ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false, ProducerConfig.COMPRESSION_TYPE_CONFIG, "zstd");
        try (KafkaProducer<String, String> p = new KafkaProducer<>(pp, new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < 10; i++) {
                p.send(new ProducerRecord<>("console", 0, "k" + i, "v" + i));
            }
            p.flush();
        }
    }

    static Result run(String... args) {
        return ToolRun.capture((out, err) -> ConsoleConsumer.run(args, out, err, new AtomicBoolean(), false));
    }

    @Test
    void shouldPrintUsageAndFailOnBadFlags() {
        Result r = run("--bootstrap-server", "127.0.0.1:1", "--topic", "t", "--no-such-flag");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("Unknown option") && r.err().contains("--bootstrap-server"), r.err());
        r = run("--topic", "t");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("bootstrap-server"), r.err());
        r = run("--bootstrap-server", "127.0.0.1:1", "--topic", "t", "--offset", "5");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("partition is required"), r.err());
        r = run("--bootstrap-server", "127.0.0.1:1", "--topic", "t", "--consumer-property", "no.such.key=1");
        assertEquals(1, r.status());
        assertTrue(r.err().contains("no.such.key"), r.err());
        r = run("--bootstrap-server", "127.0.0.1:1", "--topic", "t", "--isolation-level", "dirty");
        assertEquals(1, r.status());
    }

    @Test
    void shouldPrintRecordsOfAPartitionFromAnOffset() {
        Result r = run("--bootstrap-server", BROKER.bootstrapServers(), "--topic", "console", "--partition", "0",
            "--offset", "7", "--property", "print.key=true", "--property", "key.separator=:", "--max-messages", "3",
            "--timeout-ms", "60000");
        assertEquals(0, r.status(), r.err());
        assertEquals("k7:v7\nk8:v8\nk9:v9\n", r.out());
        assertTrue(r.err().contains("Processed a total of 3 messages"), r.err());
    }

    @Test
    void shouldReadFromBeginningWithAGroupAndStopAtMaxMessages() {
        Result r = run("--bootstrap-server", BROKER.bootstrapServers(), "--topic", "console", "--partition", "0",
            "--offset", "earliest", "--max-messages", "4", "--isolation-level", "read_committed");
        assertEquals(0, r.status(), r.err());
        assertEquals("v0\nv1\nv2\nv3\n", r.out());
    }

    @Test
    void shouldConsumeFromBeginningInAGroupWhenTheCoordinatorExists() {
        // needs the broker's group coordinator; without it the consumer times out quietly
        Result r = run("--bootstrap-server", BROKER.bootstrapServers(), "--topic", "console", "--from-beginning",
            "--group", "console-g", "--max-messages", "10", "--timeout-ms", "8000",
            "--consumer-property", "session.timeout.ms=6000", "--consumer-property", "heartbeat.interval.ms=500");
        assertEquals(0, r.status(), r.err());
        if (!r.out().isEmpty()) {
            assertEquals(10, r.out().split("\n").length, r.out());
        }
    }
}
