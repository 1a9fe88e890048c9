package io.weir.consumer;

import java.util.Objects;
import java.util.Optional;

/**
 * A committed position: the offset of the next record to consume, optional client metadata, and the
 * leader epoch of the last consumed record. Immutable.
 */
public record OffsetAndMetadata(long offset, Optional<Integer> leaderEpoch, String metadata) {
    public OffsetAndMetadata {
        if (offset < 0) {
            throw new IllegalArgumentException("Invalid negative offset " + offset);
        }
        Objects.requireNonNull(leaderEpoch, "leaderEpoch");
        metadata = metadata == null ? "" : metadata;
    }

    public OffsetAndMetadata(long offset, String metadata) {
        this(offset, Optional.empty(), metadata);
    }

    public OffsetAndMetadata(long offset) {
        this(offset, Optional.empty(), "");
    }
}
