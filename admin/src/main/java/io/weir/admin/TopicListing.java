package io.weir.admin;

import java.util.UUID;

/** A topic as listed by {@link Admin#listTopics}. */
public record TopicListing(String name, UUID topicId, boolean isInternal) {
}
