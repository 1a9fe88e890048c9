package io.weir.broker.api;

import io.weir.broker.metadata.MetadataStore;
import io.weir.broker.metadata.TopicMetadata;

import java.util.UUID;

/** Topic lookups by id shared by the handlers (ids arrive in Metadata, Fetch v13+ and DeleteTopics v6+). */
final class TopicLookup {
    private TopicLookup() {
    }

    static TopicMetadata byId(MetadataStore store, UUID id) {
        for (TopicMetadata t : store.topics().values()) {
            if (t.topicId().equals(id)) {
                return t;
            }
        }
        return null;
    }

    static String nameOf(MetadataStore store, UUID id) {
        TopicMetadata t = byId(store, id);
        return t == null ? null : t.name();
    }
}
