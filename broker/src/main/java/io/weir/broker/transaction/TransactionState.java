package io.weir.broker.transaction;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/**
 * Where a transactional id's transaction is in its life, as the transaction coordinator stores it in
 * {@code __transaction_state}. The allowed previous states of each state are listed here and only
 * here ({@link #validPreviousStates()}); {@link TransactionMetadata#transitionTo} refuses anything
 * else.
 *
 * <pre>
 * Empty ──AddPartitions──▶ Ongoing ──EndTxn(commit)──▶ PrepareCommit ──markers──▶ CompleteCommit
 *                            │    └──EndTxn(abort) / timeout / fence──▶ PrepareAbort ──markers──▶ CompleteAbort
 *                            └──InitProducerId (a newer producer)──▶ PrepareEpochFence ──▶ PrepareAbort
 * Complete* ──AddPartitions──▶ Ongoing;  Empty / Complete* ──expiry──▶ Dead
 * </pre>
 *
 * The ids are Kafka's (they are stored), and the names are what DescribeTransactions and
 * ListTransactions show.
 */
public enum TransactionState {
    EMPTY(0, "Empty"),
    ONGOING(1, "Ongoing"),
    PREPARE_COMMIT(2, "PrepareCommit"),
    PREPARE_ABORT(3, "PrepareAbort"),
    COMPLETE_COMMIT(4, "CompleteCommit"),
    COMPLETE_ABORT(5, "CompleteAbort"),
    DEAD(6, "Dead"),
    PREPARE_EPOCH_FENCE(7, "PrepareEpochFence");

    private final byte id;
    private final String displayName;

    TransactionState(int id, String displayName) {
        this.id = (byte) id;
        this.displayName = displayName;
    }

    /** The one list of allowed transitions: the states each state may be entered from. */
    public Set<TransactionState> validPreviousStates() {
        return switch (this) {
            case EMPTY -> EnumSet.of(EMPTY, COMPLETE_COMMIT, COMPLETE_ABORT);
            case ONGOING -> EnumSet.of(ONGOING, EMPTY, COMPLETE_COMMIT, COMPLETE_ABORT);
            case PREPARE_COMMIT -> EnumSet.of(ONGOING);
            // Empty and Complete*: a transactions-V2 producer may abort a transaction that has no partitions yet
            case PREPARE_ABORT -> EnumSet.of(ONGOING, PREPARE_EPOCH_FENCE, EMPTY, COMPLETE_COMMIT, COMPLETE_ABORT);
            case COMPLETE_COMMIT -> EnumSet.of(PREPARE_COMMIT);
            case COMPLETE_ABORT -> EnumSet.of(PREPARE_ABORT);
            case DEAD -> EnumSet.of(EMPTY, COMPLETE_COMMIT, COMPLETE_ABORT);
            case PREPARE_EPOCH_FENCE -> EnumSet.of(ONGOING);
        };
    }

    /** The byte stored in {@code __transaction_state}. */
    public byte id() {
        return id;
    }

    /** Kafka's name of the state, as the admin APIs show it. */
    public String displayName() {
        return displayName;
    }

    /** A transaction is open: partitions may hold its data and their LSO waits on it. */
    public boolean isOngoing() {
        return this == ONGOING;
    }

    /** Markers are being written; requests other than retries get CONCURRENT_TRANSACTIONS. */
    public boolean isPreparing() {
        return this == PREPARE_COMMIT || this == PREPARE_ABORT || this == PREPARE_EPOCH_FENCE;
    }

    /** No transaction is open (the id may start one). */
    public boolean isIdle() {
        return this == EMPTY || this == COMPLETE_COMMIT || this == COMPLETE_ABORT;
    }

    public static TransactionState fromId(byte id) {
        for (TransactionState s : values()) {
            if (s.id == id) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown transaction state id " + id);
    }

    /** The state named {@code name} (Kafka's display name, any case), or null. */
    public static TransactionState fromDisplayName(String name) {
        for (TransactionState s : values()) {
            if (s.displayName.toLowerCase(Locale.ROOT).equals(name.toLowerCase(Locale.ROOT))) {
                return s;
            }
        }
        return null;
    }
}
