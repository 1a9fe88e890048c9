package io.weir.broker.api;

import io.weir.broker.server.ProducerIdManager;
import io.weir.broker.transaction.TransactionCoordinatorService;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.message.InitProducerIdRequest;
import io.weir.protocol.message.InitProducerIdResponse;

import java.util.Map;

/**
 * InitProducerId. Idempotent producers (no transactional id) get a fresh producer id at epoch 0; the
 * producer state of log-core then dedups their retries. A transactional id goes to the transaction
 * coordinator ({@link TransactionCoordinatorService#initProducerId}), which fences older epochs and
 * aborts an open transaction first; without one (tests that build this handler alone) it answers
 * COORDINATOR_NOT_AVAILABLE, Kafka's retriable code for "no transaction coordinator can serve this id
 * right now".
 *
 * <p>Thread-safe.
 */
public final class ProducerIdHandler implements ApiHandler {
    private final ProducerIdManager producerIds;
    private final TransactionCoordinatorService transactions;

    public ProducerIdHandler(ProducerIdManager producerIds) {
        this(producerIds, null);
    }

    public ProducerIdHandler(ProducerIdManager producerIds, TransactionCoordinatorService transactions) {
        this.producerIds = producerIds;
        this.transactions = transactions;
    }

    @Override
    public Map<ApiKeys, VersionRange> apis() {
        return Map.of(ApiKeys.INIT_PRODUCER_ID, VersionRange.all(ApiKeys.INIT_PRODUCER_ID));
    }

    @Override
    public void handle(RequestContext ctx, ApiMessage body) {
        InitProducerIdRequest req = (InitProducerIdRequest) body;
        if (req.transactionalId() == null) {
            ctx.respond(new InitProducerIdResponse().setErrorCode(Errors.NONE.code())
                .setProducerId(producerIds.nextProducerId()).setProducerEpoch((short) 0));
            return;
        }
        if (transactions == null) {
            ctx.respond(errorResponse(ctx.header(), body, Errors.COORDINATOR_NOT_AVAILABLE));
            return;
        }
        short v = ctx.apiVersion();
        transactions.initProducerId(req.transactionalId(), req.transactionTimeoutMs(), req.producerId(),
            req.producerEpoch()).whenComplete((r, t) -> {
                if (t != null) {
                    ctx.respond(errorResponse(ctx.header(), body, Errors.forException(t)));
                    return;
                }
                ctx.respond(new InitProducerIdResponse()
                    .setErrorCode(TransactionApisHandler.forVersion(ApiKeys.INIT_PRODUCER_ID, v, r.error()).code())
                    .setProducerId(r.producerId()).setProducerEpoch(r.producerEpoch()));
            });
    }

    @Override
    public ApiMessage errorResponse(RequestHeader header, ApiMessage body, Errors error) {
        return new InitProducerIdResponse().setErrorCode(error.code()).setProducerId(-1).setProducerEpoch((short) -1);
    }
}
