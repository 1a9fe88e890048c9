package io.weir.admin;

/** The new total partition count of a topic (it can only grow). */
public record NewPartitions(int totalCount) {
    public static NewPartitions increaseTo(int totalCount) {
        return new NewPartitions(totalCount);
    }
}
