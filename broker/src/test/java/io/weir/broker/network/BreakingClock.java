package io.weir.broker.network;

import io.weir.common.Time;
import io.weir.common.testing.MockTime;

import java.util.function.Predicate;

/**
 * A test clock that reads a {@link MockTime}, except that {@code nanoseconds()} throws an {@link InternalError}
 * on a thread whose name {@code breakNow} accepts at that call: a way to kill a network thread with an error
 * that belongs to no one connection. Thread-safe if {@code breakNow} is.
 */
final class BreakingClock implements Time {
    private final MockTime mock;
    private final Predicate<String> breakNow;

    BreakingClock(MockTime mock, Predicate<String> breakNow) {
        this.mock = mock;
        this.breakNow = breakNow;
    }

    @Override
    public long milliseconds() {
        return mock.milliseconds();
    }

    @Override
    public long nanoseconds() {
        if (breakNow.test(Thread.currentThread().getName())) {
            throw new InternalError("the network thread's clock broke (thrown by the test)");
        }
        return mock.nanoseconds();
    }

    @Override
    public void sleep(long ms) {
        mock.sleep(ms);
    }
}
