package io.weir.bench;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The stage breakdown of {@link EndToEndLatency --stages-file}: records matched to the Produce and Fetch that
 * carried them by offset, and each stage of the chain taken from the right stamps (synthetic stamps, so every
 * figure is known).
 */
class E2eStagesTest {
    private static final long BASE = 5_000_000_000L;
    private static final int BATCH = 10;
    private static final int RECORDS = 200;

    @Test
    void shouldSplitTheSlowestRecordsIntoStagesMatchedByOffset(@TempDir Path dir) throws Exception {
        E2eStages stages = new E2eStages(RECORDS);
        List<String> log = new ArrayList<>();
        log.add("[main] INFO some.Other - not a stage line");
        for (int b = 0; b < RECORDS / BATCH; b++) {
            long lastSent = 0;
            for (int i = b * BATCH; i < (b + 1) * BATCH; i++) {
                long sent = BASE + i * 1_000_000L; // one record a ms: the batch's first record waits 9 ms to fill
                stages.sent(i, sent, sent + 1_000);
                lastSent = sent;
            }
            long received = lastSent + 300_000;
            long responded = received + 100_000;
            long written = responded + 50_000;
            log.add(stageLine("PRODUCE", received, "10", "-", "-", "100", "120", "150", b * BATCH));
            // an empty fetch at the same offset that timed out earlier, then the one the append woke
            long emptyT0 = lastSent - 900_000;
            log.add(stageLine("FETCH", emptyT0, "5", "10", "400", "410", "420", "430", b * BATCH));
            long fetchT0 = lastSent - 400_000;
            long woken = responded + 20_000;
            log.add(stageLine("FETCH", fetchT0, "5", "10", us(woken - fetchT0), us(woken + 30_000 - fetchT0),
                us(woken + 40_000 - fetchT0), us(woken + 60_000 - fetchT0), b * BATCH));
            for (int i = b * BATCH; i < (b + 1) * BATCH; i++) {
                stages.acked(i, written + 100_000);
                stages.polled(i, woken + 60_000 + 80_000);
            }
        }
        Path brokerLog = dir.resolve("broker.log");
        Files.write(brokerLog, log);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Path csv = dir.resolve("slow.csv");
        stages.report(new PrintStream(bytes, true, StandardCharsets.UTF_8), 0, RECORDS, brokerLog, csv);
        String out = bytes.toString(StandardCharsets.UTF_8);

        assertTrue(out.contains("20 batches"), out);
        assertTrue(out.contains("200 records matched (by offset), 0 unmatched, 0 with stamps out of order"), out);
        // the slowest 1 %: the 20 batch-opening records, 9 ms of fill each
        assertTrue(out.contains("slowest 1 %: 20 records"), out);
        assertEquals("9.560", slowMean(out, "e2e"));
        assertEquals("9.000", slowMean(out, "fill"));
        assertEquals("0.300", slowMean(out, "to-broker"));
        assertEquals("0.100", slowMean(out, "produce"));
        assertEquals("0.020", slowMean(out, "wake"));
        assertEquals("100", slowMean(out, "  of which"));
        assertEquals("0.060", slowMean(out, "fetch-out"));
        assertEquals("0.080", slowMean(out, "consumer"));
        assertEquals(21, Files.readAllLines(csv).size(), "a header and the 20 slowest records");
    }

    @Test
    void shouldGroupBatchesByAcknowledgementWithoutABrokerLog() throws Exception {
        E2eStages stages = new E2eStages(RECORDS);
        for (int i = 0; i < RECORDS; i++) {
            long sent = BASE + i * 1_000_000L;
            stages.sent(i, sent, sent);
            long batchEnd = BASE + ((i / BATCH) * BATCH + BATCH - 1) * 1_000_000L;
            stages.acked(i, batchEnd + 2_000_000 + (i % BATCH) * 1_000); // callbacks of one batch 1 us apart
            stages.polled(i, batchEnd + 2_500_000);
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        stages.report(new PrintStream(bytes, true, StandardCharsets.UTF_8), 0, RECORDS, null, null);
        String out = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("20 batches by acknowledgement"), out);
        assertEquals("9.000", slowMean(out, "fill"));
    }

    private static String stageLine(String api, long t0, String dequeued, String parked, String woken, String responded,
                                    String picked, String written, long offset) {
        return "[weir-network-1] INFO io.weir.broker.network.RequestStages - stages " + api + " corr=1 conn=1-2 t0=" + t0
            + " us: dequeued=" + dequeued + " parked=" + parked + " woken=" + woken + " responded=" + responded
            + " picked=" + picked + " written=" + written + " offset=" + offset;
    }

    private static String us(long ns) {
        return Long.toString(ns / 1000);
    }

    /** The "slowest 1 %: mean" column of the row whose stage name starts with {@code stage}. */
    private static String slowMean(String out, String stage) {
        for (String line : out.split("\n")) {
            if (line.startsWith("| " + stage)) {
                return line.split("\\|")[5].trim();
            }
        }
        throw new AssertionError("no row " + stage + " in\n" + out);
    }
}
