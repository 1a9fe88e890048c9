package io.weir.broker.api;

import io.weir.broker.zk.ControllerRequestApplier;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.message.LeaderAndIsrRequest;
import io.weir.protocol.message.StopReplicaRequest;
import io.weir.protocol.message.UpdateMetadataRequest;
import io.weir.protocol.message.UpdateMetadataResponse;

import java.util.Map;

/**
 * The controller's requests to a broker (Kafka's ZooKeeper mode): LeaderAndIsr, UpdateMetadata and
 * StopReplica. The checks (broker epoch, controller epoch, per-partition leader epochs) and the changes
 * are {@link ControllerRequestApplier}'s. They are advertised in ApiVersions, as Kafka 3.x ZooKeeper-mode
 * brokers did: clients ignore API keys they do not know.
 *
 * <p>Thread-safe.
 */
public final class ControllerApisHandler implements ApiHandler {
    private final ControllerRequestApplier applier;

    public ControllerApisHandler(ControllerRequestApplier applier) {
        this.applier = applier;
    }

    @Override
    public Map<ApiKeys, VersionRange> apis() {
        return Map.of(ApiKeys.LEADER_AND_ISR, VersionRange.all(ApiKeys.LEADER_AND_ISR),
            ApiKeys.UPDATE_METADATA, VersionRange.all(ApiKeys.UPDATE_METADATA),
            ApiKeys.STOP_REPLICA, VersionRange.all(ApiKeys.STOP_REPLICA));
    }

    @Override
    public void handle(RequestContext ctx, ApiMessage body) {
        switch (ctx.api()) {
            case LEADER_AND_ISR -> ctx.respond(applier.leaderAndIsr((LeaderAndIsrRequest) body));
            case UPDATE_METADATA -> ctx.respond(applier.updateMetadata((UpdateMetadataRequest) body));
            case STOP_REPLICA -> ctx.respond(applier.stopReplica((StopReplicaRequest) body));
            default -> throw new IllegalArgumentException("not a controller request: " + ctx.api());
        }
    }

    @Override
    public ApiMessage errorResponse(RequestHeader header, ApiMessage body, Errors error) {
        return switch (ApiKeys.forId(header.apiKey())) {
            case LEADER_AND_ISR -> ControllerRequestApplier.leaderAndIsrError((LeaderAndIsrRequest) body, error);
            case STOP_REPLICA -> ControllerRequestApplier.stopReplicaError((StopReplicaRequest) body, error);
            default -> new UpdateMetadataResponse().setErrorCode(error.code());
        };
    }
}
