package io.weir.broker.transaction;

import io.weir.common.TopicPartition;

import java.util.Collections;
import java.util.Comparator;
import java.util.Set;
import java.util.TreeSet;

/**
 * The durable state of one transactional id: its producer id and epoch, its timeout, the state of its
 * transaction and the partitions in it. Immutable: the coordinator's shard computes the next value with
 * {@link #toBuilder()} and {@link Builder#transitionTo} (which enforces
 * {@link TransactionState#validPreviousStates()}), writes it to {@code __transaction_state}, and only
 * replaying that record makes it the current value.
 *
 * @param previousProducerId the producer id before the last change of id (epoch exhaustion), so a retry
 *                           of the request that changed it is recognised; -1 if none
 * @param nextProducerId     while a transactions-V2 end that exhausted the epoch completes: the id the
 *                           producer continues with; -1 otherwise
 * @param lastProducerEpoch  the epoch before the last bump, so a retried request that caused the bump is
 *                           answered rather than fenced; -1 if none
 * @param txnStartTimestampMs when the current (or last) transaction started, -1 if none
 * @param clientTransactionVersion 2 when the producer speaks transactions V2 (KIP-890), else 0 or 1
 */
public record TransactionMetadata(String transactionalId, long producerId, long previousProducerId,
                                  long nextProducerId, short producerEpoch, short lastProducerEpoch,
                                  int txnTimeoutMs, TransactionState state, Set<TopicPartition> partitions,
                                  long txnStartTimestampMs, long txnLastUpdateTimestampMs,
                                  byte clientTransactionVersion) {
    /** Partitions in a stable order (topic, then partition), so records and answers are deterministic. */
    static final Comparator<TopicPartition> PARTITION_ORDER =
        Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition);

    public TransactionMetadata {
        TreeSet<TopicPartition> sorted = new TreeSet<>(PARTITION_ORDER);
        sorted.addAll(partitions);
        partitions = Collections.unmodifiableSet(sorted);
    }

    /** The epoch at which a producer id is used up: the next bump takes a new producer id. */
    public static boolean isEpochExhausted(short epoch) {
        return epoch >= Short.MAX_VALUE - 1;
    }

    /** Whether the producer is on transactions V2. */
    public boolean isTransactionV2() {
        return clientTransactionVersion >= 2;
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /** A changed copy; {@link #transitionTo} is the only way to change the state. */
    public static final class Builder {
        private final TransactionMetadata from;
        private long producerId;
        private long previousProducerId;
        private long nextProducerId;
        private short producerEpoch;
        private short lastProducerEpoch;
        private int txnTimeoutMs;
        private TransactionState state;
        private Set<TopicPartition> partitions;
        private long txnStartTimestampMs;
        private long txnLastUpdateTimestampMs;
        private byte clientTransactionVersion;

        private Builder(TransactionMetadata m) {
            this.from = m;
            producerId = m.producerId;
            previousProducerId = m.previousProducerId;
            nextProducerId = m.nextProducerId;
            producerEpoch = m.producerEpoch;
            lastProducerEpoch = m.lastProducerEpoch;
            txnTimeoutMs = m.txnTimeoutMs;
            state = m.state;
            partitions = m.partitions;
            txnStartTimestampMs = m.txnStartTimestampMs;
            txnLastUpdateTimestampMs = m.txnLastUpdateTimestampMs;
            clientTransactionVersion = m.clientTransactionVersion;
        }

        /**
         * Moves to {@code target}; throws {@link IllegalStateException} (a coordinator bug) when the
         * current state is not one of the target's allowed previous states.
         */
        public Builder transitionTo(TransactionState target) {
            if (!target.validPreviousStates().contains(state)) {
                throw new IllegalStateException("transactional id " + from.transactionalId + ": cannot move from "
                    + state.displayName() + " to " + target.displayName());
            }
            state = target;
            return this;
        }

        /** Bumps the epoch (remembering the old one for retries). */
        public Builder bumpEpoch() {
            lastProducerEpoch = producerEpoch;
            producerEpoch = (short) (producerEpoch + 1);
            return this;
        }

        /** Continues under a new producer id at epoch 0 (the old epoch was exhausted). */
        public Builder newProducerId(long id) {
            previousProducerId = producerId;
            lastProducerEpoch = -1;
            producerId = id;
            producerEpoch = 0;
            nextProducerId = -1;
            return this;
        }

        /**
         * No retry may claim the epoch (or producer id) before this one: a new producer instance took the
         * transactional id over.
         */
        public Builder forgetPredecessor() {
            lastProducerEpoch = -1;
            previousProducerId = -1;
            return this;
        }

        public Builder nextProducerId(long id) {
            nextProducerId = id;
            return this;
        }

        public Builder txnTimeoutMs(int ms) {
            txnTimeoutMs = ms;
            return this;
        }

        public Builder partitions(Set<TopicPartition> ps) {
            partitions = ps;
            return this;
        }

        public Builder txnStartTimestampMs(long ms) {
            txnStartTimestampMs = ms;
            return this;
        }

        public Builder lastUpdate(long ms) {
            txnLastUpdateTimestampMs = ms;
            return this;
        }

        public Builder clientTransactionVersion(byte v) {
            clientTransactionVersion = v;
            return this;
        }

        public TransactionMetadata build() {
            return new TransactionMetadata(from.transactionalId, producerId, previousProducerId, nextProducerId,
                producerEpoch, lastProducerEpoch, txnTimeoutMs, state, partitions, txnStartTimestampMs,
                txnLastUpdateTimestampMs, clientTransactionVersion);
        }
    }
}
