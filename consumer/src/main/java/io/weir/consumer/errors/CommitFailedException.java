package io.weir.consumer.errors;

/**
 * A commit that cannot succeed: the group rebalanced and the partitions may belong to another member
 * now (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, REBALANCE_IN_PROGRESS), or the member stayed away
 * from poll() longer than {@code max.poll.interval.ms}. Not retriable; the next poll() rejoins.
 */
public class CommitFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CommitFailedException(String message) {
        super(message);
    }
}
