package io.weir.broker.zk;

import java.util.ArrayList;
import java.util.List;

/**
 * A partition reassignment in progress (KIP-455), as the controller keeps it in the topic's znode
 * ({@code adding_replicas} / {@code removing_replicas}, Kafka's ZooKeeper-mode layout): while it runs the
 * partition's replicas are the target replicas followed by the original replicas that are not targets,
 * {@code adding} are the targets that were not replicas, {@code removing} the originals that are not
 * targets. It completes when every target replica is in the ISR. Immutable.
 */
public record PartitionReassignment(List<Integer> adding, List<Integer> removing) {
    public PartitionReassignment {
        adding = List.copyOf(adding);
        removing = List.copyOf(removing);
    }

    /** The target replicas: the current replicas without those being removed. */
    public List<Integer> target(List<Integer> replicas) {
        List<Integer> out = new ArrayList<>(replicas);
        out.removeAll(removing);
        return out;
    }

    /** The replicas before the reassignment began: the current replicas without those being added. */
    public List<Integer> original(List<Integer> replicas) {
        List<Integer> out = new ArrayList<>(replicas);
        out.removeAll(adding);
        return out;
    }

    /**
     * The replicas while moving from {@code original} to {@code target}: the targets, then the originals
     * that are not targets (Kafka's order, so the preferred leader is already the target's first).
     */
    public static List<Integer> union(List<Integer> target, List<Integer> original) {
        List<Integer> out = new ArrayList<>(target);
        for (int r : original) {
            if (!out.contains(r)) {
                out.add(r);
            }
        }
        return out;
    }

    /** The reassignment from {@code original} to {@code target}. */
    public static PartitionReassignment of(List<Integer> original, List<Integer> target) {
        List<Integer> adding = new ArrayList<>(target);
        adding.removeAll(original);
        List<Integer> removing = new ArrayList<>(original);
        removing.removeAll(target);
        return new PartitionReassignment(adding, removing);
    }
}
