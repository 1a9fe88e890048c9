package io.weir.broker.zk;

import io.weir.broker.server.DynamicBrokerConfigs;
import io.weir.common.utils.Json;
import org.apache.zookeeper.KeeperException;

import java.util.Map;
import java.util.TreeMap;

/**
 * A broker's {@link DynamicBrokerConfigs} in ZooKeeper, at {@code /config/brokers/<id>} as
 * {@code {"version":1,"config":{...}}} (Kafka's ZooKeeper-mode layout). Read from ZooKeeper at each call:
 * they change and are read rarely. Only this broker writes them (IncrementalAlterConfigs of a BROKER resource
 * goes to that broker), so {@code onChange} — which sets the replication throttle's rate — hears every
 * change. Thread-safe.
 */
public final class ZkDynamicBrokerConfigs implements DynamicBrokerConfigs {
    private final ZkMetadataStore store;
    private final String path;
    private final java.util.function.Consumer<Map<String, String>> onChange;

    /** Reads the stored configs once and hands them to {@code onChange}, as it will after each {@link #set}. */
    public ZkDynamicBrokerConfigs(ZkMetadataStore store, int brokerId, java.util.function.Consumer<Map<String, String>> onChange) {
        this.store = store;
        this.path = ZkPaths.brokerConfig(brokerId);
        this.onChange = onChange;
        onChange.accept(get());
    }

    @Override
    public Map<String, String> get() {
        byte[] data = store.getDataOrNull(path, null, null);
        Map<String, String> out = new TreeMap<>();
        if (data != null && Json.parseObject(data).get("config") instanceof Map<?, ?> c) {
            c.forEach((k, v) -> out.put(k.toString(), String.valueOf(v)));
        }
        return out;
    }

    @Override
    public void set(Map<String, String> configs) {
        byte[] data = ZkMetadataStore.configJson(configs);
        try {
            try {
                store.client().setData().forPath(path, data);
            } catch (KeeperException.NoNodeException e) {
                store.client().create().creatingParentsIfNeeded().forPath(path, data);
            }
        } catch (Exception e) {
            throw ZkMetadataStore.zkFailure("write " + path, e);
        }
        onChange.accept(Map.copyOf(configs));
    }
}
