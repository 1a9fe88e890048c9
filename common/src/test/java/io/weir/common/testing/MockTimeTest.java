package io.weir.common.testing;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class MockTimeTest {
    @Test
    void wallAndMonotonicClocksHaveSeparateBasesAndMoveTogether() {
        MockTime time = new MockTime(0, 1_000L, 7L);
        assertEquals(1_000L, time.milliseconds());
        assertEquals(7L, time.nanoseconds());
        time.advance(5);
        assertEquals(1_005L, time.milliseconds());
        assertEquals(7L + 5_000_000L, time.nanoseconds());
        MockTime defaults = new MockTime();
        assertNotEquals(defaults.milliseconds() * 1_000_000L, defaults.nanoseconds());
    }

    @Test
    void sleepMovesTheClockAndListenersSeeTheNewTime() {
        MockTime time = new MockTime(100L);
        List<Long> seen = new ArrayList<>();
        MockTime.Listener l = () -> seen.add(time.milliseconds());
        time.addListener(l);
        time.sleep(40);
        time.setCurrentTimeMs(200);
        time.removeListener(l);
        time.advance(1);
        assertEquals(List.of(140L, 200L), seen);
        assertEquals(201L, time.milliseconds());
    }

    @Test
    void autoTickMovesTheClockOnEveryRead() {
        MockTime time = new MockTime(3, 0L, 0L);
        assertEquals(3L, time.milliseconds());
        assertEquals(6_000_000L, time.nanoseconds());
        assertEquals(9L, time.milliseconds());
    }

    @Test
    void timeNeverGoesBack() {
        MockTime time = new MockTime(50L);
        assertThrows(IllegalArgumentException.class, () -> time.advance(-1));
        assertThrows(IllegalArgumentException.class, () -> time.setCurrentTimeMs(49));
        assertEquals(50L, time.milliseconds());
    }
}
