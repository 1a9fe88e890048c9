package io.weir.log;

import io.weir.common.testing.MockTime;
import io.weir.common.testing.TempDirs;
import io.weir.log.internals.LeaderEpochFileCache;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static io.weir.common.testing.Batches.records;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The log's leader-epoch history: recorded on append, answered for OffsetForLeaderEpoch, truncated and checkpointed with the log. */
class LogLeaderEpochTest {
    private final Path root = TempDirs.create("epochs");
    private final Path dir = root.resolve("orders-0");
    private final MockTime time = new MockTime();
    private final List<Log> open = new ArrayList<>();

    @AfterEach
    void cleanUp() {
        for (Log l : open) {
            try {
                l.close();
            } catch (RuntimeException ignored) {
                // already closed
            }
        }
        TempDirs.delete(root);
    }

    private Log open(boolean clean) {
        Log log = Log.open(dir, LogConfig.fromMap(Map.of(LogConfig.SEGMENT_BYTES, "200")), 0, 0, clean, time);
        open.add(log);
        return log;
    }

    private static TreeMap<Integer, Long> map(Object... epochStart) {
        TreeMap<Integer, Long> m = new TreeMap<>();
        for (int i = 0; i < epochStart.length; i += 2) {
            m.put((Integer) epochStart[i], ((Number) epochStart[i + 1]).longValue());
        }
        return m;
    }

    @Test
    void shouldAnswerEndOffsetsOfEachEpochWithKafkasRules() {
        Log log = open(true);
        log.assignLeaderEpoch(0);
        log.appendAsLeader(records(1, "a", "b"), 0);
        log.assignLeaderEpoch(2);
        log.appendAsLeader(records(1, "c"), 2);
        log.appendAsLeader(records(1, "d", "e"), 2);
        log.assignLeaderEpoch(5);
        assertEquals(map(0, 0, 2, 2, 5, 5), log.leaderEpochEntries());

        assertEquals(new EpochEndOffset(0, 2), log.endOffsetForEpoch(0));
        // an epoch that never led ends where the next known one began, answered with the epoch below it
        assertEquals(new EpochEndOffset(0, 2), log.endOffsetForEpoch(1));
        assertEquals(new EpochEndOffset(2, 5), log.endOffsetForEpoch(3));
        assertEquals(new EpochEndOffset(5, 5), log.endOffsetForEpoch(5));
        log.appendAsLeader(records(1, "f"), 5);
        assertEquals(new EpochEndOffset(5, 6), log.endOffsetForEpoch(5));
        assertEquals(new EpochEndOffset(-1, -1), log.endOffsetForEpoch(6));
        assertEquals(new EpochEndOffset(-1, -1), log.endOffsetForEpoch(-1));
        assertEquals(5, log.latestLeaderEpoch());
    }

    @Test
    void shouldForgetAnEpochOpenedAtTheLogEndWhenAFollowerTruncatesThere() {
        Log log = open(true);
        log.assignLeaderEpoch(0);
        log.appendAsLeader(records(1, "a", "b"), 0);
        log.assignLeaderEpoch(3); // led at epoch 3 and wrote nothing
        assertEquals(map(0, 0, 3, 2), log.leaderEpochEntries());

        assertEquals(false, log.truncateTo(2), "no data above 2");
        assertEquals(map(0, 0), log.leaderEpochEntries(), "epoch 3 was never the leader's of these offsets");
        assertEquals(2, log.logEndOffset());
        log.truncateTo(5);
        assertEquals(map(0, 0), log.leaderEpochEntries(), "a target beyond the log end changes nothing");
    }

    @Test
    void shouldRecordEpochsFromAppendedBatchesWithoutAnExplicitAssign() {
        Log log = open(true);
        log.appendAsLeader(records(1, "a"), 3);
        log.appendAsLeader(records(1, "b"), 3);
        log.appendAsLeader(records(1, "c"), 4);
        assertEquals(map(3, 0, 4, 2), log.leaderEpochEntries());
    }

    @Test
    void shouldSurviveRestartAndTruncateWithTheLog() {
        Log log = open(true);
        log.assignLeaderEpoch(1);
        log.appendAsLeader(records(1, "a", "b", "c"), 1);
        log.assignLeaderEpoch(4);
        log.appendAsLeader(records(1, "d", "e"), 4);
        log.close();
        open.clear();

        Path file = dir.resolve(LeaderEpochFileCache.FILE_NAME);
        assertTrue(Files.exists(file));
        Log reopened = open(true);
        assertEquals(map(1, 0, 4, 3), reopened.leaderEpochEntries());
        assertEquals(new EpochEndOffset(1, 3), reopened.endOffsetForEpoch(1));

        reopened.truncateTo(3);
        assertEquals(map(1, 0), reopened.leaderEpochEntries());
        reopened.close();
        open.clear();
        assertEquals(map(1, 0), open(true).leaderEpochEntries());
    }

    @Test
    void shouldMoveTheFirstEpochUpWhenRecordsAreDeleted() throws Exception {
        Log log = open(true);
        log.assignLeaderEpoch(1);
        for (int i = 0; i < 10; i++) {
            log.appendAsLeader(records(1, "v" + i), i < 5 ? 1 : 2);
        }
        assertEquals(map(1, 0, 2, 5), log.leaderEpochEntries());
        log.deleteRecordsBefore(3);
        assertEquals(map(1, 3, 2, 5), log.leaderEpochEntries());
        log.deleteRecordsBefore(7);
        assertEquals(map(2, 7), log.leaderEpochEntries());
        assertEquals(new EpochEndOffset(2, 10), log.endOffsetForEpoch(2));
        assertEquals(new EpochEndOffset(1, 7), log.endOffsetForEpoch(1));
        log.close();
        open.clear();
        assertEquals(map(2, 7), open(true).leaderEpochEntries());
    }

    @Test
    void shouldForgetEveryEpochWhenTruncatedFully() {
        Log log = open(true);
        log.appendAsLeader(records(1, "a"), 2);
        log.truncateFullyAndStartAt(50);
        assertEquals(map(), log.leaderEpochEntries());
        log.assignLeaderEpoch(3);
        assertEquals(map(3, 50), log.leaderEpochEntries());
    }

    @Test
    void shouldDropCheckpointedEpochsBeyondARecoveredLogEnd() throws Exception {
        Log log = open(true);
        log.appendAsLeader(records(1, "a", "b"), 1);
        log.close();
        open.clear();
        // a checkpoint that names an epoch starting past the data (its batches never reached the disk)
        Files.writeString(dir.resolve(LeaderEpochFileCache.FILE_NAME), "0\n2\n1 0\n7 2\n");
        assertEquals(map(1, 0), open(false).leaderEpochEntries());
    }

    @Test
    void shouldRefuseAMalformedCheckpointNamingTheFile() throws Exception {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(LeaderEpochFileCache.FILE_NAME), "0\n2\n3 10\n2 20\n");
        RuntimeException e = assertThrows(RuntimeException.class, () -> LeaderEpochFileCache.load(dir));
        assertTrue(e.getMessage().contains(LeaderEpochFileCache.FILE_NAME), e.getMessage());
    }
}
