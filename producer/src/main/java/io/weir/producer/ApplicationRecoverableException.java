package io.weir.producer;

import io.weir.protocol.Errors;

/**
 * Fatal to this producer instance, but not to the application (KIP-1050's "application-recoverable" kind): the
 * producer's identity is no longer the current one for its {@code transactional.id} (a newer instance fenced it, or
 * the coordinator no longer maps the id to this producer), so nothing it has not committed will become visible.
 * Close it, create a new producer with the same {@code transactional.id}, call {@code initTransactions()}, and
 * resume from the application's own state (the consumer's committed offsets, a checkpoint): the new instance
 * works. Every later call of this producer throws this. {@link ProducerFencedException} is the fenced case.
 */
public class ApplicationRecoverableException extends ProducerFatalException {
    private static final long serialVersionUID = 1L;

    public ApplicationRecoverableException(Errors error, String message, Throwable cause) {
        super(error, message, cause);
    }
}
