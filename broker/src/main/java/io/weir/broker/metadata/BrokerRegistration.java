package io.weir.broker.metadata;

import java.util.List;

/**
 * A live broker as it registered itself (in ZooKeeper, {@code /brokers/ids/<id>}): where clients
 * reach it, its rack, and its broker epoch — the zxid that created the registration znode (Kafka's
 * ZooKeeper mode uses the same), new at every registration, so the controller can tell a restarted
 * broker from the incarnation a request speaks for (STALE_BROKER_EPOCH, INELIGIBLE_REPLICA). -1 when
 * unknown. Immutable.
 */
public record BrokerRegistration(int id, String host, int port, String rack, List<String> endpoints, long epoch) {
    public BrokerRegistration {
        endpoints = List.copyOf(endpoints);
    }

    /** A registration whose epoch is not known (-1). */
    public BrokerRegistration(int id, String host, int port, String rack, List<String> endpoints) {
        this(id, host, port, rack, endpoints, -1L);
    }
}
