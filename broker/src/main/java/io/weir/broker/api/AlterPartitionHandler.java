package io.weir.broker.api;

import io.weir.broker.zk.AlterPartitionControl;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.message.AlterPartitionRequest;

import java.util.Map;

/**
 * AlterPartition: a partition leader asks the controller to change the partition's ISR. Every broker
 * answers it; a broker that is not the active controller answers NOT_CONTROLLER (top level) and the
 * sender looks the controller up again. The checks and the ZooKeeper write are
 * {@link AlterPartitionControl}'s; the write is one conditional ZooKeeper transaction per changed
 * partition, made on the request-handler thread (a few milliseconds).
 *
 * <p>Thread-safe.
 */
public final class AlterPartitionHandler implements ApiHandler {
    private final AlterPartitionControl control;

    public AlterPartitionHandler(AlterPartitionControl control) {
        this.control = control;
    }

    @Override
    public Map<ApiKeys, VersionRange> apis() {
        return Map.of(ApiKeys.ALTER_PARTITION, VersionRange.all(ApiKeys.ALTER_PARTITION));
    }

    @Override
    public void handle(RequestContext ctx, ApiMessage body) {
        ctx.respond(control.alterPartition(ctx.apiVersion(), (AlterPartitionRequest) body));
    }

    @Override
    public ApiMessage errorResponse(RequestHeader header, ApiMessage body, Errors error) {
        return AlterPartitionControl.errorResponse((AlterPartitionRequest) body, error);
    }
}
