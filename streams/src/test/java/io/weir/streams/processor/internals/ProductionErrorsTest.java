package io.weir.streams.processor.internals;

import io.weir.protocol.ApiException;
import io.weir.protocol.Errors;
import io.weir.protocol.client.TimeoutException;
import io.weir.streams.errors.ProductionExceptionHandler.Response;
import io.weir.streams.errors.ProductionExceptionHandler.Result;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which send errors the production exception handler decides, and RETRY holding only for retriable ones (KIP-1065). */
class ProductionErrorsTest {
    private static final Exception TIMEOUT = new TimeoutException("Topic out not present in metadata after 500 ms");
    private static final Exception TOO_LARGE = new ApiException(Errors.MESSAGE_TOO_LARGE, "too large");

    @Test
    void shouldGiveRefusedAndRetriableSendErrorsToTheHandlerButNotTheProducersOwn() {
        assertTrue(ProductionErrors.goesToHandler(TIMEOUT));
        assertTrue(ProductionErrors.goesToHandler(TOO_LARGE));
        assertFalse(ProductionErrors.goesToHandler(new ApiException(Errors.PRODUCER_FENCED, "fenced")));
        assertFalse(ProductionErrors.goesToHandler(new ApiException(Errors.INVALID_PRODUCER_EPOCH, "epoch")));
        assertFalse(ProductionErrors.goesToHandler(new IllegalStateException("closed")));
    }

    @Test
    void shouldRetryOnlyARetriableErrorAndFailOtherwise() {
        assertEquals(Result.RETRY, ProductionErrors.effective(Response.retry(), TIMEOUT));
        assertEquals(Result.FAIL, ProductionErrors.effective(Response.retry(), TOO_LARGE));
        assertEquals(Result.RESUME, ProductionErrors.effective(Response.resume(), TOO_LARGE));
        assertEquals(Result.FAIL, ProductionErrors.effective(null, TIMEOUT));
    }
}
