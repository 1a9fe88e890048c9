package io.weir.admin;

import java.util.List;

/**
 * A partition reassignment in progress, as ListPartitionReassignments reports it: the current replicas
 * (the targets first, then those being removed), the replicas being added and those being removed.
 */
public record PartitionReassignment(List<Integer> replicas, List<Integer> addingReplicas, List<Integer> removingReplicas) {
    public PartitionReassignment {
        replicas = List.copyOf(replicas);
        addingReplicas = List.copyOf(addingReplicas);
        removingReplicas = List.copyOf(removingReplicas);
    }
}
