package io.weir.bench.sidebyside;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
                    assertTrue(List.of("producer", "e2e").contains(c.type()), f + ": " + c.type());
                    assertTrue(c.numRecords() > 0 && c.partitions() > 0 && c.recordSize() > 0, f.toString());
                }
            }
        }
    }

    @Test
    void medianOfEvenCountIsTheMeanOfTheMiddleTwo() {
        assertEquals(2.5, Report.median(List.of(4.0, 1.0, 2.0, 3.0)));
        assertEquals(2.0, Report.median(List.of(3.0, 1.0, 2.0)));
    }
}
