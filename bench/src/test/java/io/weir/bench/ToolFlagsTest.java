package io.weir.bench;

import org.junit.jupiter.api.Test;

import static io.weir.bench.ToolsSmokeTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad command lines end with the usage and a non-zero exit, before any connection is made. */
class ToolFlagsTest {
    private static final String[] GOOD = {"--topic", "t", "--num-records", "10", "--record-size", "100",
        "--throughput", "-1", "--producer-props", "bootstrap.servers=127.0.0.1:1"};

    @Test
    void shouldRejectUnknownFlagWithUsage() {
        ToolsSmokeTest.Output out = run(ProducerPerformance::run, "--topic", "t", "--bogus", "1");
        assertEquals(2, out.code());
        assertTrue(out.err().contains("Usage: weir-producer-perf-test"), out.toString());
    }

    @Test
    void shouldRequireNumRecordsAndThroughput() {
        assertEquals(2, run(ProducerPerformance::run, "--topic", "t", "--record-size", "10",
            "--producer-props", "bootstrap.servers=x:1").code());
    }

    @Test
    void shouldRejectRecordSizeTogetherWithPayloadFile() {
        ToolsSmokeTest.Output out = run(ProducerPerformance::run, "--topic", "t", "--num-records", "10", "--record-size", "10",
            "--payload-file", "/etc/hostname", "--throughput", "-1", "--producer-props", "bootstrap.servers=x:1");
        assertEquals(2, out.code(), out.toString());
    }

    @Test
    void shouldRequireProducerPropsOrConfig() {
        ToolsSmokeTest.Output out = run(ProducerPerformance::run, "--topic", "t", "--num-records", "10", "--record-size", "10",
            "--throughput", "-1");
        assertEquals(2, out.code(), out.toString());
        assertTrue(out.err().contains("--producer-props"), out.toString());
    }

    @Test
    void shouldRejectMalformedProducerProp() {
        ToolsSmokeTest.Output out = run(ProducerPerformance::run, "--topic", "t", "--num-records", "10", "--record-size", "10",
            "--throughput", "-1", "--producer-props", "acks");
        assertEquals(1, out.code(), out.toString());
        assertTrue(out.err().contains("expected key=value"), out.toString());
    }

    @Test
    void shouldRejectUnknownClient() {
        String[] args = concat(GOOD, "--client", "pulsar");
        ToolsSmokeTest.Output out = run(ProducerPerformance::run, args);
        assertEquals(2, out.code(), out.toString());
        assertTrue(out.err().contains("weir or kafka"), out.toString());
    }

    @Test
    void shouldRejectANonPositiveTransactionDuration() {
        for (String client : new String[] {"weir", "kafka"}) {
            ToolsSmokeTest.Output out = run(ProducerPerformance::run, concat(GOOD, "--client", client,
                "--transactional-id", "t1", "--transaction-duration-ms", "0"));
            assertEquals(2, out.code(), out.toString());
            assertTrue(out.err().contains("--transaction-duration-ms should be greater than zero."), out.toString());
        }
    }

    @Test
    void shouldRunTheWeirConsumerAndFailOnlyForTheUnreachableBroker() {
        ToolsSmokeTest.Output consumer = run(ConsumerPerformance::run, "--bootstrap-server", "127.0.0.1:1", "--topic", "t",
            "--messages", "1", "--client", "weir", "--timeout", "300", "--consumer-props", "default.api.timeout.ms=300");
        assertEquals(1, consumer.code(), consumer.toString());
        assertTrue(!consumer.err().contains("not available"), consumer.toString());
        assertTrue(consumer.err().contains("io.weir.protocol.client.TimeoutException"), consumer.toString());
    }

    @Test
    void shouldStillRefuseAWeirClientForARoleWithoutOne() {
        ClientKind.ClientNotAvailableException e = org.junit.jupiter.api.Assertions.assertThrows(
            ClientKind.ClientNotAvailableException.class, () -> ClientKind.WEIR.requireAvailable("admin"));
        assertTrue(e.getMessage().contains("use --client kafka"), e.getMessage());
        ClientKind.WEIR.requireAvailable("consumer");
        ClientKind.WEIR.requireAvailable("producer");
    }

    @Test
    void shouldRejectConsumerWithoutMessages() {
        ToolsSmokeTest.Output out = run(ConsumerPerformance::run, "--bootstrap-server", "127.0.0.1:1", "--topic", "t");
        assertEquals(2, out.code(), out.toString());
        assertTrue(out.err().contains("--messages"), out.toString());
    }

    @Test
    void shouldRejectE2eWithoutThroughput() {
        assertEquals(2, run(EndToEndLatency::run, "--bootstrap-server", "127.0.0.1:1", "--topic", "t",
            "--num-records", "10").code());
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
