package io.weir.streams.processor.internals;

import io.weir.common.TopicPartition;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The changelog offset sum a member reports for a task (what the assignor's warm-up rule compares): each changelog
 * counted once, whether the task's stores are active copies (each records every changelog of the task) or standby
 * copies (each records its own).
 */
class TaskOffsetSumTest {
    private static final TopicPartition A = new TopicPartition("app-a-changelog", 0);
    private static final TopicPartition B = new TopicPartition("app-b-changelog", 0);
    private static final TopicPartition INPUT = new TopicPartition("in", 0);

    @Test
    void shouldCountEachChangelogOnceForActiveAndStandbyCopiesAlike() {
        // an active task's two stores: each committed the input offset and both changelogs' end offsets
        long active = StreamThread.offsetSum(List.of(Map.of(INPUT, 900L, A, 100L, B, 200L),
            Map.of(INPUT, 900L, A, 100L, B, 200L)));
        // the same task's standby copy, caught up: each store committed its own changelog's position
        long standby = StreamThread.offsetSum(List.of(Map.of(A, 100L), Map.of(B, 200L)));
        assertEquals(300, active);
        assertEquals(active, standby);
    }

    @Test
    void shouldTakeTheNewestOffsetAStoreRecordedForAChangelog() {
        // a former active copy now a standby: its stores still hold the other changelog's offset of that time
        assertEquals(150 + 250, StreamThread.offsetSum(List.of(Map.of(A, 150L, B, 200L), Map.of(A, 100L, B, 250L))));
    }

    @Test
    void shouldReportNoStoresAsUnknown() {
        assertEquals(-1, StreamThread.offsetSum(List.of()));
        assertEquals(-1, StreamThread.offsetSum(List.of(Map.of(INPUT, 5L))));
    }
}
