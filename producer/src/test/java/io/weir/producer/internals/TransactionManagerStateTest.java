package io.weir.producer.internals;

import io.weir.common.Time;
import io.weir.protocol.client.NetworkClient;
import io.weir.protocol.client.Node;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.weir.producer.internals.TransactionManager.State.ABORTABLE_ERROR;
import static io.weir.producer.internals.TransactionManager.State.ABORTING_TRANSACTION;
import static io.weir.producer.internals.TransactionManager.State.COMMITTING_TRANSACTION;
import static io.weir.producer.internals.TransactionManager.State.FATAL_ERROR;
import static io.weir.producer.internals.TransactionManager.State.INITIALIZING;
import static io.weir.producer.internals.TransactionManager.State.IN_TRANSACTION;
import static io.weir.producer.internals.TransactionManager.State.READY;
import static io.weir.producer.internals.TransactionManager.State.UNINITIALIZED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The transaction lifecycle's allowed transitions, and the messages of the calls made in the wrong state. */
class TransactionManagerStateTest {
    private NetworkClient client;
    private TransactionManager tm;

    @BeforeEach
    void setUp() {
        // a client that is never used to send: every call below fails on its state first
        client = new NetworkClient(NetworkClient.Settings.defaults(List.of(new Node(-1, "localhost", 1)), "test"),
            Time.SYSTEM);
        tm = new TransactionManager("txn-a", 60_000, client, Time.SYSTEM, 100);
    }

    @AfterEach
    void tearDown() {
        client.close(0);
    }

    @Test
    void shouldAllowExactlyKafkasTransitions() {
        Map<TransactionManager.State, Set<TransactionManager.State>> allowed = Map.of(
            UNINITIALIZED, EnumSet.noneOf(TransactionManager.State.class),
            INITIALIZING, EnumSet.of(UNINITIALIZED, ABORTING_TRANSACTION),
            READY, EnumSet.of(INITIALIZING, COMMITTING_TRANSACTION, ABORTING_TRANSACTION),
            IN_TRANSACTION, EnumSet.of(READY),
            COMMITTING_TRANSACTION, EnumSet.of(IN_TRANSACTION),
            ABORTING_TRANSACTION, EnumSet.of(IN_TRANSACTION, ABORTABLE_ERROR),
            ABORTABLE_ERROR, EnumSet.of(IN_TRANSACTION, COMMITTING_TRANSACTION, ABORTABLE_ERROR),
            FATAL_ERROR, EnumSet.allOf(TransactionManager.State.class));
        for (TransactionManager.State to : TransactionManager.State.values()) {
            for (TransactionManager.State from : TransactionManager.State.values()) {
                assertEquals(allowed.get(to).contains(from), to.canFollow(from), from + " -> " + to);
            }
        }
    }

    @Test
    void shouldNameBothStatesWhenATransitionIsIllegal() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
            () -> tm.transitionTo(COMMITTING_TRANSACTION));
        assertEquals("TransactionalId txn-a: invalid transition from state UNINITIALIZED to state "
            + "COMMITTING_TRANSACTION", e.getMessage());
        assertEquals(UNINITIALIZED, tm.state());
    }

    @Test
    void shouldRefuseTransactionalCallsBeforeInitTransactions() {
        IllegalStateException e = assertThrows(IllegalStateException.class, tm::beginTransaction);
        assertTrue(e.getMessage().contains("state UNINITIALIZED; call initTransactions() first"), e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> tm.commitTransaction(1_000));
        assertTrue(e.getMessage().contains("cannot commit in state UNINITIALIZED"), e.getMessage());
        e = assertThrows(IllegalStateException.class, () -> tm.abortTransaction(1_000));
        assertTrue(e.getMessage().contains("cannot abort in state UNINITIALIZED"), e.getMessage());
        e = assertThrows(IllegalStateException.class,
            () -> tm.maybeAddPartition(new io.weir.common.TopicPartition("t", 0)));
        assertTrue(e.getMessage().contains("call initTransactions() and beginTransaction() first"), e.getMessage());
        assertEquals(UNINITIALIZED, tm.state());
    }
}
