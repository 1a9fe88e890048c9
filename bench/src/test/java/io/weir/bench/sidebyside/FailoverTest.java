package io.weir.bench.sidebyside;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class FailoverTest {
    private static final long KILL = 1_000_000_000L; // µs
    private static final long GONE = KILL + 2_000;

    private static Failover.Event ok(int partition, long sendMsAfterKill, long ackMsAfterKill) {
        return new Failover.Event(partition, KILL + sendMsAfterKill * 1000, KILL + ackMsAfterKill * 1000, true);
    }

    @Test
    void shouldMeasureFromTheKillToTheFirstAndLastRecoveredPartitionsOfTheDeadLeader() {
        List<Failover.Event> events = List.of(
            ok(0, -50, -45), ok(1, -50, -44), ok(2, -50, -43),
            ok(2, 10, 30),              // partition 2 was followed by the dead broker only: back at 30 ms
            ok(0, -10, 4_000),          // sent before the kill: retried, but not counted
            ok(0, 100, 4_100),          // first record sent after the kill on a partition it led
            ok(3, 200, 6_500),          // its other partition
            ok(1, 300, 9_000));         // the last partition back (it waited for the ISR to shrink)

        Map<String, Double> f = Failover.figures(events, KILL, GONE, Set.of(0, 3), 4);

        assertEquals(4_100.0, f.get("failover first ack ms"));
        assertEquals(6_500.0, f.get("failover led partitions ms"));
        assertEquals(9_000.0, f.get("failover followed partitions ms"));
        assertEquals(9_000.0, f.get("failover all partitions ms"));
        assertEquals(0.0, f.get("failover failed records"));
        assertEquals(8_700.0, f.get("failover max latency ms"));
        assertFalse(f.containsKey("failover unrecovered partitions"));
    }

    @Test
    void shouldNotCountAResponseTheDeadBrokerHadAlreadyWrittenNorPretendAPartitionRecovered() {
        List<Failover.Event> events = List.of(
            ok(0, 1, 2),                // sent after the signal but before the process was gone: not a recovery
            ok(1, 100, 150),
            new Failover.Event(0, KILL + 500_000, KILL + 120_500_000, false));

        Map<String, Double> f = Failover.figures(events, KILL, GONE, Set.of(0), 2);

        assertFalse(f.containsKey("failover first ack ms"));
        assertFalse(f.containsKey("failover led partitions ms"));
        assertFalse(f.containsKey("failover all partitions ms"));
        assertEquals(150.0, f.get("failover followed partitions ms"));
        assertEquals(1.0, f.get("failover unrecovered partitions"));
        assertEquals(1.0, f.get("failover failed records"));
    }

    @Test
    void shouldParseTheProbesEventLines() {
        assertEquals(new Failover.Event(5, 17, 42, true), Failover.Event.parse("5 17 42 ok"));
        assertEquals(new Failover.Event(1, 3, 9, false), Failover.Event.parse("1 3 9 error TimeoutException"));
    }
}
