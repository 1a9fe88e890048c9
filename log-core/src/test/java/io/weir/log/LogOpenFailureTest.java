package io.weir.log;

import io.weir.common.testing.MockTime;
import io.weir.common.testing.TempDirs;
import io.weir.log.internals.LogSegment;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static io.weir.common.testing.Batches.records;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Opening a log that fails part-way (a later segment's file cannot be opened) releases every file handle
 * and mapping it opened before the failure, and reports the failure itself. The faults are real: a
 * directory where a segment's file is expected, which no user (root included) can open as a file.
 * Handles are counted in this process's {@code /proc/self/fd} and {@code /proc/self/maps}.
 */
class LogOpenFailureTest {
    private final Path root = TempDirs.create("log-open-failure");
    private final Path dir = root.resolve("orders-0");
    private final MockTime time = new MockTime();

    @BeforeEach
    void writeTwoSegments() {
        Log log = Log.open(dir, LogConfig.fromMap(Map.of()), 0, 0, true, time);
        log.appendAsLeader(records(time.milliseconds(), "a", "b"), 0);
        log.roll();
        log.appendAsLeader(records(time.milliseconds(), "c"), 0);
        assertEquals(2, log.numberOfSegments());
        log.close();
        assertEquals(List.of(), handlesInto(dir), "nothing of the log is open before the test");
    }

    @AfterEach
    void cleanUp() {
        TempDirs.delete(root);
    }

    @Test
    void shouldCloseEarlierSegmentsWhenALaterSegmentFileCannotBeOpened() throws IOException {
        // segments 0 and 2 open, then a "segment 5" whose log file is a directory fails to open
        Files.createDirectory(LogSegment.file(dir, 5, LogSegment.LOG_SUFFIX));

        assertOpenFailsAndLeavesNothingOpen(true, "segment 5");
    }

    @Test
    void shouldReleaseASegmentsOffsetIndexWhenItsTimeIndexCannotBeOpened() throws IOException {
        Path timeIndex = replaceWithDirectory(LogSegment.file(dir, 2, LogSegment.TIME_INDEX_SUFFIX));

        assertOpenFailsAndLeavesNothingOpen(true, timeIndex.getFileName().toString());
    }

    @Test
    void shouldCloseEverySegmentWhenRecoveryFailsAfterTheSegmentsAreOpen() throws IOException {
        // after an unclean stop both segments are open before recovery resets their transaction indexes;
        // the last one's cannot be opened
        Path txnIndex = replaceWithDirectory(LogSegment.file(dir, 2, LogSegment.TXN_INDEX_SUFFIX));

        assertOpenFailsAndLeavesNothingOpen(false, txnIndex.getFileName().toString());
    }

    @Test
    void shouldCloseASegmentWhoseIndexRebuildFails() throws IOException {
        // a clean open rebuilds the last segment's missing offset index; cutting its torn tail then
        // trims its transaction index, which cannot be opened
        Files.delete(LogSegment.file(dir, 2, LogSegment.INDEX_SUFFIX));
        Files.write(LogSegment.file(dir, 2, LogSegment.LOG_SUFFIX), new byte[] {0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 40},
            StandardOpenOption.APPEND);
        Path txnIndex = replaceWithDirectory(LogSegment.file(dir, 2, LogSegment.TXN_INDEX_SUFFIX));

        assertOpenFailsAndLeavesNothingOpen(true, txnIndex.getFileName().toString());
    }

    /** A directory where {@code file} was (or would be): no user, root included, opens it as a file. */
    private static Path replaceWithDirectory(Path file) throws IOException {
        Files.deleteIfExists(file);
        return Files.createDirectory(file);
    }

    /** Opening the log fails with its own error, naming {@code expectedInMessage}, and leaves no handle open. */
    private void assertOpenFailsAndLeavesNothingOpen(boolean cleanShutdown, String expectedInMessage) {
        UncheckedIOException e = assertThrows(UncheckedIOException.class,
            () -> Log.open(dir, LogConfig.fromMap(Map.of()), 0, 0, cleanShutdown, time));

        assertTrue(e.getMessage().contains(expectedInMessage), e.getMessage());
        assertEquals(List.of(), handlesInto(dir), "handles left open by the failed open");
    }

    /** This process's open descriptors and mappings whose file lies in {@code logDir}. */
    private static List<String> handlesInto(Path logDir) {
        String prefix;
        try {
            prefix = logDir.toRealPath() + "/";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> found = new ArrayList<>();
        try (Stream<Path> fds = Files.list(Paths.get("/proc/self/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith(prefix)) {
                        found.add("fd " + target);
                    }
                } catch (IOException gone) {
                    // the descriptor that listed the directory, closed since
                }
            }
            for (String line : Files.readAllLines(Paths.get("/proc/self/maps"))) {
                int at = line.indexOf(prefix);
                if (at >= 0) {
                    found.add("mapped " + line.substring(at));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return found;
    }
}
