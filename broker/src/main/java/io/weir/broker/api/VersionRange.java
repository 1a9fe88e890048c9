package io.weir.broker.api;

import io.weir.protocol.ApiKeys;

/** An inclusive range of versions, of an API or of a feature. */
public record VersionRange(short min, short max) {
    public VersionRange {
        if (min > max) {
            throw new IllegalArgumentException("empty version range " + min + ".." + max);
        }
    }

    public static VersionRange of(int min, int max) {
        return new VersionRange((short) min, (short) max);
    }

    /** Every version of {@code api} that Weir's message classes can read and write. */
    public static VersionRange all(ApiKeys api) {
        return new VersionRange(api.lowestVersion(), api.highestVersion());
    }

    public boolean contains(short version) {
        return version >= min && version <= max;
    }

    public boolean contains(VersionRange other) {
        return other.min >= min && other.max <= max;
    }

    @Override
    public String toString() {
        return min + ".." + max;
    }
}
