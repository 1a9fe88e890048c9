package io.weir.log;

/**
 * The idempotence verdict on one batch before it is appended. Expected outcomes are values, not
 * exceptions: the broker maps each to its error code. For {@link Result#DUPLICATE},
 * {@code firstOffset}/{@code lastOffset} are the offsets the original batch got, which the broker
 * returns to the producer as if the retry had been appended.
 */
public record ProducerAppendCheck(Result result, long firstOffset, long lastOffset, String message) {
    public enum Result {
        /** Append it. */
        OK,
        /** A retry of one of the producer's last five batches: do not append, answer with its offsets. */
        DUPLICATE,
        /** The sequence does not follow the producer's last one (a gap, or a new epoch not starting at 0). */
        OUT_OF_ORDER_SEQUENCE,
        /** The producer epoch is older than the one seen: a zombie, fenced. */
        INVALID_PRODUCER_EPOCH,
        /** A non-transactional batch from a producer with an open transaction. */
        INVALID_TXN_STATE,
        /** A transaction marker from an older transaction coordinator epoch. */
        TRANSACTION_COORDINATOR_FENCED
    }

    public static final ProducerAppendCheck OK = new ProducerAppendCheck(Result.OK, -1, -1, null);

    public boolean isOk() {
        return result == Result.OK;
    }

    public static ProducerAppendCheck error(Result result, String message) {
        return new ProducerAppendCheck(result, -1, -1, message);
    }
}
