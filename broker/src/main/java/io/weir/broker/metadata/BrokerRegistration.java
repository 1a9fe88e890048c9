package io.weir.broker.metadata;

import java.util.List;

/**
 * A live broker as it registered itself (in ZooKeeper, {@code /brokers/ids/<id>}): where clients
 * reach it and its rack. Immutable.
 */
public record BrokerRegistration(int id, String host, int port, String rack, List<String> endpoints) {
    public BrokerRegistration {
        endpoints = List.copyOf(endpoints);
    }
}
