package io.weir.broker.server;

import io.weir.common.TopicPartition;
import io.weir.protocol.Errors;

import java.util.Map;
import java.util.Set;

/**
 * Leader elections an operator asks for (ElectLeaders, {@code kafka-leader-election.sh}): the
 * controller's preferred-replica and unclean elections. In a cluster this is
 * {@code io.weir.broker.zk.ZkController}: the controller elects at once; any other broker hands the
 * request to the controller through ZooKeeper and waits for its answer.
 */
public interface LeaderElector {
    /** ElectLeaders' election types, by their wire value. */
    enum Type {
        PREFERRED, UNCLEAN;

        public static Type of(byte wire) {
            return switch (wire) {
                case 0 -> PREFERRED;
                case 1 -> UNCLEAN;
                default -> throw new IllegalArgumentException("unknown election type " + wire);
            };
        }

        public byte wire() {
            return (byte) ordinal();
        }
    }

    /** One partition's outcome: NONE (elected), ELECTION_NOT_NEEDED, PREFERRED_LEADER_NOT_AVAILABLE, ... */
    record Result(Errors error, String message) {
        public static final Result ELECTED = new Result(Errors.NONE, null);
    }

    /**
     * Elects leaders of {@code partitions} ({@code null}: every partition; the answer then lists only the
     * partitions that got a new leader or failed, as Kafka's). Waits at most {@code timeoutMs} for
     * another broker's controller to answer, then throws {@link TopicController.NotCompletedException}.
     */
    Map<TopicPartition, Result> electLeaders(Type type, Set<TopicPartition> partitions, long timeoutMs);
}
