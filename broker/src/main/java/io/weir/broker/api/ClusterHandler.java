package io.weir.broker.api;

import io.weir.broker.BrokerConfig;
import io.weir.broker.metadata.BrokerRegistration;
import io.weir.broker.metadata.MetadataStore;
import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.message.DescribeClusterRequest;
import io.weir.protocol.message.DescribeClusterResponse;

import java.util.List;
import java.util.Map;

/**
 * DescribeCluster: the cluster id, the controller and the brokers (every registered broker), and,
 * when asked, the cluster operations the caller may perform (all of them: there is no authorizer).
 * Thread-safe.
 */
public final class ClusterHandler implements ApiHandler {
    private final BrokerConfig config;
    private final MetadataStore store;
    private final BrokerConfig.Endpoint advertised;

    public ClusterHandler(BrokerConfig config, MetadataStore store, BrokerConfig.Endpoint advertised) {
        this.config = config;
        this.store = store;
        this.advertised = advertised;
    }

    @Override
    public Map<ApiKeys, VersionRange> apis() {
        return Map.of(ApiKeys.DESCRIBE_CLUSTER, VersionRange.all(ApiKeys.DESCRIBE_CLUSTER));
    }

    @Override
    public void handle(RequestContext ctx, ApiMessage body) {
        boolean withOperations = ((DescribeClusterRequest) body).includeClusterAuthorizedOperations();
        ctx.respond(new DescribeClusterResponse().setErrorCode(Errors.NONE.code()).setClusterId(store.clusterId())
            .setClusterAuthorizedOperations(withOperations ? AuthorizedOperations.CLUSTER : AuthorizedOperations.NOT_REQUESTED)
            .setControllerId(store.controllerId() >= 0 ? store.controllerId() : config.brokerId())
            .setBrokers(brokers()));
    }

    /** Every registered broker, and this one (it answers, so it is alive) if its registration is not seen yet. */
    private List<DescribeClusterResponse.DescribeClusterBroker> brokers() {
        List<DescribeClusterResponse.DescribeClusterBroker> out = new java.util.ArrayList<>();
        boolean self = false;
        for (BrokerRegistration b : store.liveBrokers()) {
            self |= b.id() == config.brokerId();
            out.add(new DescribeClusterResponse.DescribeClusterBroker().setBrokerId(b.id()).setHost(b.host())
                .setPort(b.port()).setRack(b.rack()));
        }
        if (!self) {
            out.add(new DescribeClusterResponse.DescribeClusterBroker().setBrokerId(config.brokerId())
                .setHost(advertised.host()).setPort(advertised.port()).setRack(config.getString(BrokerConfig.BROKER_RACK)));
        }
        return out;
    }

    @Override
    public ApiMessage errorResponse(RequestHeader header, ApiMessage body, Errors error) {
        return new DescribeClusterResponse().setErrorCode(error.code()).setControllerId(-1).setBrokers(List.of());
    }
}
