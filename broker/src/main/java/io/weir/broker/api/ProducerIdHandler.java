package io.weir.broker.api;

import io.weir.broker.server.ProducerIdManager;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.message.InitProducerIdRequest;
import io.weir.protocol.message.InitProducerIdResponse;

import java.util.Map;

/**
 * InitProducerId. Idempotent producers (no transactional id) get a fresh producer id at epoch 0; the
 * producer state of log-core then dedups their retries. A transactional id needs the transaction
 * coordinator, which this broker does not run yet: it answers COORDINATOR_NOT_AVAILABLE, Kafka's code
 * for "no transaction coordinator can serve this id right now" (retriable, so a client keeps trying
 * until its own timeout rather than treating it as an authorization failure).
 *
 * <p>Thread-safe.
 */
public final class ProducerIdHandler implements ApiHandler {
    private final ProducerIdManager producerIds;

    public ProducerIdHandler(ProducerIdManager producerIds) {
        this.producerIds = producerIds;
    }

    @Override
    public Map<ApiKeys, VersionRange> apis() {
        return Map.of(ApiKeys.INIT_PRODUCER_ID, VersionRange.all(ApiKeys.INIT_PRODUCER_ID));
    }

    @Override
    public void handle(RequestContext ctx, ApiMessage body) {
        InitProducerIdRequest req = (InitProducerIdRequest) body;
        if (req.transactionalId() != null) {
            ctx.respond(errorResponse(ctx.header(), body, Errors.COORDINATOR_NOT_AVAILABLE));
            return;
        }
        ctx.respond(new InitProducerIdResponse().setErrorCode(Errors.NONE.code())
            .setProducerId(producerIds.nextProducerId()).setProducerEpoch((short) 0));
    }

    @Override
    public ApiMessage errorResponse(RequestHeader header, ApiMessage body, Errors error) {
        return new InitProducerIdResponse().setErrorCode(error.code()).setProducerId(-1).setProducerEpoch((short) -1);
    }
}
