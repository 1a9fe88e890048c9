package io.weir.broker.purgatory;

import io.weir.common.testing.MockTime;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WheelTimerTest {
    private final MockTime time = new MockTime();
    private final WheelTimer timer = new WheelTimer(time, 1, 8);
    private final List<Long> firedAt = new ArrayList<>();

    private TimerTask task(long delayMs) {
        return new TimerTask(delayMs) {
            @Override
            public void run() {
                firedAt.add(time.milliseconds());
            }
        };
    }

    @Test
    void shouldRunEachTaskOnceAtItsDeadlineAcrossWheelLevels() {
        long start = time.milliseconds();
        long[] delays = {1, 5, 7, 8, 9, 63, 64, 65, 500, 4_000};
        for (long d : delays) {
            timer.add(task(d));
        }
        assertEquals(delays.length, timer.size());
        for (long ms = 1; ms <= 4_100; ms++) {
            time.advance(1);
            int before = firedAt.size();
            timer.advanceClock(0);
            for (int i = before; i < firedAt.size(); i++) {
                assertEquals(start + ms, firedAt.get(i), "a task ran away from its deadline");
            }
        }
        List<Long> expected = new ArrayList<>();
        for (long d : delays) {
            expected.add(start + d);
        }
        assertEquals(expected, firedAt);
        assertEquals(0, timer.size());
    }

    @Test
    void shouldNotRunACancelledTask() {
        TimerTask t = task(10);
        timer.add(t);
        timer.add(task(20));
        t.cancel();
        assertEquals(1, timer.size());
        time.advance(30);
        assertEquals(1, timer.advanceClock(0));
        assertEquals(List.of(time.milliseconds()), firedAt);
    }

    @Test
    void shouldRunAnAlreadyDueTaskOnAdd() {
        timer.add(task(0));
        assertEquals(1, firedAt.size());
        assertEquals(0, timer.size());
    }

    @Test
    void shouldRunEverythingOverdueInOneStepWhenTheClockJumps() {
        for (int d = 1; d <= 1000; d += 7) {
            timer.add(task(d));
        }
        int n = timer.size();
        time.advance(2_000);
        assertEquals(n, timer.advanceClock(0));
        assertTrue(firedAt.stream().allMatch(t -> t == time.milliseconds()));
    }
}
