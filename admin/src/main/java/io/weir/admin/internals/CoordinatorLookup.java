package io.weir.admin.internals;

import io.weir.admin.errors.AdminErrors;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.Errors;
import io.weir.protocol.client.NetworkClient;
import io.weir.protocol.client.Node;
import io.weir.protocol.client.NodeSelector;
import io.weir.protocol.message.FindCoordinatorRequest;
import io.weir.protocol.message.FindCoordinatorResponse;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * FindCoordinator for one key, as group and transaction operations both need it: batched form (v4+)
 * or single key by the negotiated version, retried while the answer is retriable, a non-retriable error
 * raised as the admin exception of its code.
 */
final class CoordinatorLookup {
    /** FindCoordinator key type of a consumer group. */
    static final byte GROUP = 0;
    /** FindCoordinator key type of a transactional id. */
    static final byte TRANSACTION = 1;

    private CoordinatorLookup() {
    }

    /** The coordinator of {@code key} (of the given key type), found through the least loaded broker. */
    static CompletableFuture<Node> find(NetworkClient client, byte keyType, String key, long deadlineMs) {
        var b = WeirAdminClient.builder(ApiKeys.FIND_COORDINATOR, v -> {
            FindCoordinatorRequest r = new FindCoordinatorRequest().setKeyType(keyType);
            if (v >= 4) {
                r.setCoordinatorKeys(new ArrayList<>(List.of(key)));
            } else {
                r.setKey(key);
            }
            return r;
        }, r -> {
            Errors e = error((FindCoordinatorResponse) r);
            return e.isRetriable() ? e : Errors.NONE;
        });
        return client.send(NodeSelector.leastLoaded(), b, deadlineMs).thenApply(resp -> {
            FindCoordinatorResponse r = (FindCoordinatorResponse) resp;
            if (!r.coordinators().isEmpty()) {
                FindCoordinatorResponse.Coordinator c = r.coordinators().get(0);
                if (c.errorCode() != Errors.NONE.code()) {
                    throw AdminErrors.exception(c.errorCode(), c.errorMessage());
                }
                return new Node(c.nodeId(), c.host(), c.port());
            }
            if (r.errorCode() != Errors.NONE.code()) {
                throw AdminErrors.exception(r.errorCode(), r.errorMessage());
            }
            return new Node(r.nodeId(), r.host(), r.port());
        });
    }

    private static Errors error(FindCoordinatorResponse r) {
        return Errors.forCode(r.coordinators().isEmpty() ? r.errorCode() : r.coordinators().get(0).errorCode());
    }
}
