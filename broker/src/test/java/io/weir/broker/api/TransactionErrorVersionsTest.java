package io.weir.broker.api;

import io.weir.protocol.ApiKeys;
import io.weir.protocol.Errors;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The transaction errors a client gets depend on the version it speaks (KIP-588, KIP-890). */
class TransactionErrorVersionsTest {
    private static Errors at(ApiKeys api, int version, Errors e) {
        return TransactionApisHandler.forVersion(api, (short) version, e);
    }

    @Test
    void shouldSendProducerFencedOnlyToVersionsThatKnowIt() {
        assertEquals(Errors.INVALID_PRODUCER_EPOCH, at(ApiKeys.INIT_PRODUCER_ID, 3, Errors.PRODUCER_FENCED));
        assertEquals(Errors.PRODUCER_FENCED, at(ApiKeys.INIT_PRODUCER_ID, 4, Errors.PRODUCER_FENCED));
        for (ApiKeys api : new ApiKeys[] {ApiKeys.ADD_PARTITIONS_TO_TXN, ApiKeys.ADD_OFFSETS_TO_TXN, ApiKeys.END_TXN}) {
            assertEquals(Errors.INVALID_PRODUCER_EPOCH, at(api, 1, Errors.PRODUCER_FENCED), api.name());
            assertEquals(Errors.PRODUCER_FENCED, at(api, 2, Errors.PRODUCER_FENCED), api.name());
        }
        assertEquals(Errors.INVALID_PRODUCER_EPOCH, at(ApiKeys.TXN_OFFSET_COMMIT, 5, Errors.PRODUCER_FENCED));
        assertEquals(Errors.INVALID_PRODUCER_EPOCH, at(ApiKeys.PRODUCE, 12, Errors.PRODUCER_FENCED));
    }

    @Test
    void shouldSendTransactionAbortableOnlyToVersionsThatKnowIt() {
        assertEquals(Errors.INVALID_TXN_STATE, at(ApiKeys.ADD_PARTITIONS_TO_TXN, 4, Errors.TRANSACTION_ABORTABLE));
        assertEquals(Errors.TRANSACTION_ABORTABLE, at(ApiKeys.ADD_PARTITIONS_TO_TXN, 5, Errors.TRANSACTION_ABORTABLE));
        for (ApiKeys api : new ApiKeys[] {ApiKeys.ADD_OFFSETS_TO_TXN, ApiKeys.END_TXN, ApiKeys.TXN_OFFSET_COMMIT}) {
            assertEquals(Errors.INVALID_TXN_STATE, at(api, 3, Errors.TRANSACTION_ABORTABLE), api.name());
            assertEquals(Errors.TRANSACTION_ABORTABLE, at(api, 4, Errors.TRANSACTION_ABORTABLE), api.name());
        }
        assertEquals(Errors.INVALID_TXN_STATE, at(ApiKeys.PRODUCE, 10, Errors.TRANSACTION_ABORTABLE));
        assertEquals(Errors.TRANSACTION_ABORTABLE, at(ApiKeys.PRODUCE, 11, Errors.TRANSACTION_ABORTABLE));
        assertEquals(Errors.CONCURRENT_TRANSACTIONS, at(ApiKeys.END_TXN, 0, Errors.CONCURRENT_TRANSACTIONS));
    }
}
