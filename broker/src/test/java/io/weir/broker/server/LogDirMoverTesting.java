package io.weir.broker.server;

import io.weir.broker.Broker;

/**
 * Test access to {@link LogDirMover}'s pause seam for tests outside this package (the compatibility tests
 * with Kafka's tools): a paused mover leaves a move under way, so its progress can be observed.
 */
public final class LogDirMoverTesting {
    private LogDirMoverTesting() {
    }

    /** Pauses (or lets go on) the broker's mover of replicas between log directories. */
    public static void setPaused(Broker broker, boolean paused) {
        broker.replicaManager().logDirMover().setPausedForTest(paused);
    }
}
