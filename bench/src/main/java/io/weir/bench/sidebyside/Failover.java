package io.weir.bench.sidebyside;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns a failover run's acknowledgement log (see {@code io.weir.bench.FailoverProbe}) into figures,
 * all in ms from the SIGKILL:
 * <ul>
 *   <li>{@code failover first ack ms}: the first acknowledgement, on any partition the killed broker
 *       led, of a record sent after the broker was gone: its partitions take writes again;</li>
 *   <li>{@code failover led partitions ms}: every partition it led has acknowledged such a record;</li>
 *   <li>{@code failover followed partitions ms}: every other partition has (with acks=all, the
 *       partitions it only followed wait until it leaves their ISR: the cluster's side of the recovery,
 *       where the client's handling of the dead connection plays no part);</li>
 *   <li>{@code failover all partitions ms}: every partition of the topic has (total unavailability);</li>
 *   <li>{@code failover failed records}: acknowledgements that carried an error;</li>
 *   <li>{@code failover max latency ms}: the longest any record of the run waited for its answer.</li>
 * </ul>
 * Only records sent after the killed process was reaped count, so a response the dead broker had
 * already written cannot pass for a recovery. A partition that never recovers leaves its figure out
 * (the report shows "–") and sets {@code failover unrecovered partitions}.
 */
final class Failover {
    private Failover() {
    }

    /** One line of the events file. */
    record Event(int partition, long sendMicros, long ackMicros, boolean ok) {
        static Event parse(String line) {
            String[] f = line.trim().split("\\s+");
            return new Event(Integer.parseInt(f[0]), Long.parseLong(f[1]), Long.parseLong(f[2]), f[3].equals("ok"));
        }
    }

    /**
     * @param killMicros when SIGKILL was sent (µs since the epoch)
     * @param goneMicros when the killed process was known to be gone
     * @param led the partitions the killed broker led
     * @param partitions the topic's partition count
     */
    static Map<String, Double> figures(List<Event> events, long killMicros, long goneMicros, Set<Integer> led,
                                       int partitions) {
        long[] recovered = new long[partitions];
        java.util.Arrays.fill(recovered, Long.MAX_VALUE);
        long failed = 0;
        long maxLatency = 0;
        for (Event e : events) {
            maxLatency = Math.max(maxLatency, e.ackMicros() - e.sendMicros());
            if (!e.ok()) {
                failed++;
                continue;
            }
            if (e.sendMicros() >= goneMicros && e.ackMicros() < recovered[e.partition()]) {
                recovered[e.partition()] = e.ackMicros();
            }
        }
        Map<String, Double> out = new LinkedHashMap<>();
        long firstLed = Long.MAX_VALUE;
        long lastLed = Long.MIN_VALUE;
        long lastAll = Long.MIN_VALUE;
        long lastFollowed = Long.MIN_VALUE;
        int unrecovered = 0;
        for (int p = 0; p < partitions; p++) {
            if (recovered[p] == Long.MAX_VALUE) {
                unrecovered++;
                continue;
            }
            if (led.contains(p)) {
                firstLed = Math.min(firstLed, recovered[p]);
                lastLed = Math.max(lastLed, recovered[p]);
            } else {
                lastFollowed = Math.max(lastFollowed, recovered[p]);
            }
            lastAll = Math.max(lastAll, recovered[p]);
        }
        boolean ledAll = led.stream().allMatch(p -> recovered[p] != Long.MAX_VALUE);
        if (firstLed != Long.MAX_VALUE) {
            out.put("failover first ack ms", (firstLed - killMicros) / 1000.0);
        }
        if (ledAll && !led.isEmpty()) {
            out.put("failover led partitions ms", (lastLed - killMicros) / 1000.0);
        }
        boolean followedAll = true;
        for (int p = 0; p < partitions; p++) {
            followedAll &= led.contains(p) || recovered[p] != Long.MAX_VALUE;
        }
        if (followedAll && led.size() < partitions) {
            out.put("failover followed partitions ms", (lastFollowed - killMicros) / 1000.0);
        }
        if (unrecovered == 0) {
            out.put("failover all partitions ms", (lastAll - killMicros) / 1000.0);
        } else {
            out.put("failover unrecovered partitions", (double) unrecovered);
        }
        out.put("failover failed records", (double) failed);
        out.put("failover max latency ms", maxLatency / 1000.0);
        return out;
    }
}
