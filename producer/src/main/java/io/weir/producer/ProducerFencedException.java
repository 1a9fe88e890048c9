package io.weir.producer;

import io.weir.protocol.Errors;

/**
 * A newer producer with the same {@code transactional.id} (or the coordinator, after
 * {@code transaction.timeout.ms}) bumped the epoch: this producer is a zombie. Fatal: nothing it
 * has not committed will become visible, and it must be closed; the newer instance carries on.
 * Raised for PRODUCER_FENCED and INVALID_PRODUCER_EPOCH (the older versions' name for the same thing).
 */
public final class ProducerFencedException extends ApplicationRecoverableException {
    private static final long serialVersionUID = 1L;

    public ProducerFencedException(Errors error, String message) {
        super(error, message, null);
    }
}
