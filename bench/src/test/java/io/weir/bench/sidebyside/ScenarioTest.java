package io.weir.bench.sidebyside;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScenarioTest {
    @Test
    void shouldExpandEverySweepCombination() throws Exception {
        Scenario s = Scenario.load(Path.of("scenarios/batch-linger-sweep.properties"), Map.of());
        List<Scenario.Case> cases = s.cases();
        assertEquals(9, cases.size());
        assertEquals("batch-linger-sweep batch.size=16384 linger.ms=0", cases.get(0).label());
        assertTrue(cases.get(0).clientProps("producer").containsAll(List.of("batch.size=16384", "linger.ms=0", "acks=1")));
        assertEquals(6, cases.get(0).partitions());
    }

    @Test
    void shouldApplyOverrides() throws Exception {
        Scenario s = Scenario.load(Path.of("scenarios/p6-100b-acks1.properties"), Map.of("num.records", "1234"));
        assertEquals(List.of(1234L, 1234L), s.cases().stream().map(Scenario.Case::numRecords).toList());
    }

    @Test
    void shouldLoadEveryShippedScenario() throws Exception {
        try (Stream<Path> files = Files.list(Path.of("scenarios"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".properties")).toList()) {
                Scenario s = Scenario.load(f, Map.of());
                assertFalse(s.cases().isEmpty(), f.toString());
                for (Scenario.Case c : s.cases()) {
                    assertTrue(List.of("producer", "e2e", "streams").contains(c.type()), f + ": " + c.type());
                    assertTrue(c.numRecords() > 0 && c.partitions() > 0 && c.recordSize() > 0, f.toString());
                }
            }
        }
    }

    @Test
    void shouldSweepATransactionalCaseAndItsNonTransactionalTwin() throws Exception {
        Scenario s = Scenario.load(Path.of("scenarios/txn-1kb-100ms.properties"), Map.of("num.records", "200000"));
        List<Scenario.Case> cases = s.cases();
        assertEquals(2, cases.size());
        Scenario.Case plain = cases.get(0);
        Scenario.Case txn = cases.get(1);
        assertEquals("txn-1kb-100ms transaction.duration.ms=100", txn.label());
        assertTrue(txn.transactional());
        assertEquals(100, txn.transactionDurationMs());
        assertFalse(plain.transactional());
        assertEquals(0, plain.transactionDurationMs());
        assertEquals(200000, txn.numRecords());
        assertEquals(plain, s.nonTransactionalTwin(txn).orElseThrow());
        assertTrue(s.nonTransactionalTwin(plain).isEmpty(), "a plain case is nobody's transactional side");
        assertFalse(txn.clientProps("producer").stream().anyMatch(p -> p.startsWith("transaction")),
            "the key is the bench's, not a client property: " + txn.clientProps("producer"));
    }

    @Test
    void shouldMakeEveryCaseTransactionalWithoutATwinWhenTheKeyIsNotSwept() throws Exception {
        Scenario s = Scenario.load(Path.of("scenarios/txn-small.properties"), Map.of());
        Scenario.Case only = s.cases().get(0);
        assertEquals(1, s.cases().size());
        assertEquals(1, only.transactionDurationMs());
        assertEquals(4, only.producers());
        assertTrue(s.nonTransactionalTwin(only).isEmpty());
    }

    @Test
    void shouldRejectANegativeTransactionDuration() throws Exception {
        Scenario s = Scenario.load(Path.of("scenarios/txn-small.properties"), Map.of("transaction.duration.ms", "-5"));
        assertThrows(IllegalArgumentException.class, () -> s.cases().get(0).transactionDurationMs());
        Scenario plain = Scenario.load(Path.of("scenarios/p6-1kb-acks1.properties"), Map.of());
        assertFalse(plain.cases().get(0).transactional(), "no key: not transactional");
    }

    @Test
    void medianOfEvenCountIsTheMeanOfTheMiddleTwo() {
        assertEquals(2.5, Report.median(List.of(4.0, 1.0, 2.0, 3.0)));
        assertEquals(2.0, Report.median(List.of(3.0, 1.0, 2.0)));
    }

    @Test
    void shouldDescribeTheReplicatedClusterScenarios() throws Exception {
        for (String name : List.of("rf3-acks-all-100b", "rf3-acks-all-1kb", "rf3-failover")) {
            Scenario s = Scenario.load(Path.of("scenarios/" + name + ".properties"), Map.of());
            assertEquals(3, s.clusterSize(), name);
            Scenario.Case c = s.cases().get(0);
            assertEquals(3, c.replicationFactor(), name);
            assertEquals(Map.of("min.insync.replicas", "2"), c.topicConfigs(), name);
            assertTrue(c.clientProps("producer").contains("acks=all"), name);
            assertEquals(name.equals("rf3-failover"), c.failover(), name);
        }
        Scenario.Case failover = Scenario.load(Path.of("scenarios/rf3-failover.properties"), Map.of()).cases().get(0);
        assertEquals(10_000, failover.failoverKillAfterMs());
        assertEquals(60_000, failover.failoverObserveMs());
    }

    @Test
    void shouldRunOnOneBrokerUnlessTheScenarioSizesACluster() throws Exception {
        Scenario single = Scenario.load(Path.of("scenarios/p6-100b-acksall.properties"), Map.of());
        assertEquals(1, single.clusterSize());
        assertEquals(1, single.cases().get(0).replicationFactor());
        assertTrue(single.cases().get(0).topicConfigs().isEmpty());
        assertFalse(single.cases().get(0).failover());
        Scenario resized = Scenario.load(Path.of("scenarios/p6-100b-acksall.properties"), Map.of("cluster.size", "3"));
        assertEquals(3, resized.clusterSize());
        Scenario swept = Scenario.load(Path.of("scenarios/p6-100b-acksall.properties"), Map.of("sweep.cluster.size", "1,3"));
        assertThrows(IllegalArgumentException.class, swept::cases);
    }
}
