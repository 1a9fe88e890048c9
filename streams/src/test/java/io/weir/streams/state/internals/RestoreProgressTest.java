package io.weir.streams.state.internals;

import io.weir.common.TopicPartition;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RestoreProgressTest {

    private static final TopicPartition CHANGELOG = new TopicPartition("app-counts-changelog", 1);

    @Test
    void shouldCountRecordsAndFinishByPositionEvenWhenMarkersTakeOffsets() {
        RestoreProgress progress = new RestoreProgress("counts", CHANGELOG, RestoreProgress.Origin.LOCAL_STORE, 1_000, 1_100, 5_000);
        assertEquals(100, progress.totalToRestore());
        assertFalse(progress.done());
        progress.onRestored(49, 1_050, 5_010); // 49 records + 1 commit marker
        assertEquals(49, progress.recordsRestored());
        assertEquals(50, progress.remaining());
        assertEquals("state store 'counts' (changelog app-counts-changelog-1, from LOCAL_STORE at offset 1000): "
            + "restoring, 49 records of at most 100 (50%) in 20 ms", progress.describe(5_020));
        progress.onRestored(49, 1_100, 5_030);
        assertTrue(progress.done());
        assertEquals(98, progress.recordsRestored());
        assertEquals(30, progress.elapsedMs(9_999));
        assertTrue(progress.describe(9_999).contains("restored 98 records of at most 100 (100%) in 30 ms"));
    }

    @Test
    void shouldBeDoneAtOnceWhenThereIsNoTail() {
        RestoreProgress progress = new RestoreProgress("counts", CHANGELOG, RestoreProgress.Origin.SNAPSHOT, 7, 7, 100);
        assertTrue(progress.done());
        assertEquals(0, progress.totalToRestore());
        assertEquals(0, progress.elapsedMs(500));
    }
}
