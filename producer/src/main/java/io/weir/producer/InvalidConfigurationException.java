package io.weir.producer;

import io.weir.protocol.Errors;

/**
 * Fatal, and a new producer with the same settings would fail the same way (KIP-1050's "invalid configuration"
 * kind): the broker refused the producer's configuration or rights, e.g. a {@code transaction.timeout.ms} above
 * the broker's {@code transaction.max.timeout.ms} (INVALID_TRANSACTION_TIMEOUT), a {@code transactional.id} the
 * principal may not use (TRANSACTIONAL_ID_AUTHORIZATION_FAILED, CLUSTER_AUTHORIZATION_FAILED), or a broker too
 * old for the requested feature (UNSUPPORTED_VERSION). Close the producer and fix the configuration or the ACLs.
 */
public final class InvalidConfigurationException extends ProducerFatalException {
    private static final long serialVersionUID = 1L;

    public InvalidConfigurationException(Errors error, String message, Throwable cause) {
        super(error, message, cause);
    }
}
