package io.weir.streams.processor.internals;

import io.weir.protocol.ApiException;
import io.weir.streams.errors.ProductionExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which send errors reach the production exception handler, and what its answer means; the one place both the
 * task (errors thrown by {@code send}) and the stream thread's collector (errors of the producer's callback) ask.
 */
final class ProductionErrors {
    private static final Logger log = LoggerFactory.getLogger(ProductionErrors.class);

    private ProductionErrors() {
    }

    /**
     * Whether a send error goes to the production exception handler: a refusal of the record itself (too large,
     * invalid, not authorized for its topic) or a retriable error (timeout, leader change, topic not in metadata
     * yet; KIP-1065), not an error about the producer's own state (fenced, its sequence or transaction), which
     * keeps the thread's own paths.
     */
    static boolean goesToHandler(Exception error) {
        if (!(error instanceof ApiException e)) {
            return false;
        }
        return switch (e.error()) {
            case OUT_OF_ORDER_SEQUENCE_NUMBER, INVALID_PRODUCER_EPOCH, INVALID_TXN_STATE, INVALID_PRODUCER_ID_MAPPING,
                 TRANSACTIONAL_ID_AUTHORIZATION_FAILED, UNKNOWN_PRODUCER_ID, PRODUCER_FENCED, TRANSACTION_ABORTABLE,
                 CLUSTER_AUTHORIZATION_FAILED -> false;
            default -> true;
        };
    }

    static boolean isRetriable(Exception error) {
        return error instanceof ApiException e && e.isRetriable();
    }

    /** The handler's answer as the task acts on it: RETRY holds only for a retriable error, else it is FAIL. */
    static ProductionExceptionHandler.Result effective(ProductionExceptionHandler.Response response, Exception error) {
        if (response == null) {
            log.warn("The production exception handler answered null to {}; failing", error.toString());
            return ProductionExceptionHandler.Result.FAIL;
        }
        ProductionExceptionHandler.Result result = response.result();
        if (result == ProductionExceptionHandler.Result.RETRY && !isRetriable(error)) {
            log.warn("The production exception handler answered RETRY to a non-retriable error ({}); failing", error.toString());
            return ProductionExceptionHandler.Result.FAIL;
        }
        return result;
    }
}
