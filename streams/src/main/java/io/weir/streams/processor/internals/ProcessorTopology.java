package io.weir.streams.processor.internals;

import io.weir.streams.processor.StateStore;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One task's instance of (part of) a topology: its nodes in definition order, the source node of each
 * input topic, and new unopened store instances.
 */
public record ProcessorTopology(List<ProcessorNode> nodes, Map<String, SourceNode> sourcesByTopic,
                                Map<String, StateStore> stores, Map<String, Boolean> storeLogged) {

    public Set<String> sourceTopics() {
        return sourcesByTopic.keySet();
    }
}
