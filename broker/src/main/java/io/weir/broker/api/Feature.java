package io.weir.broker.api;

/**
 * A feature flag advertised in ApiVersions v3+ (KIP-584): the versions this broker supports, and the
 * level finalized for the cluster (clients switch behaviour on it, e.g. {@code transaction.version}).
 * A handler contributes the features its APIs implement through {@link ApiHandler#features()}.
 */
public record Feature(String name, VersionRange supported, short finalizedLevel) {
    public Feature {
        if (name == null || name.isEmpty()) {
            throw new IllegalArgumentException("a feature needs a name");
        }
        if (!supported.contains(finalizedLevel)) {
            throw new IllegalArgumentException("feature " + name + ": finalized level " + finalizedLevel
                + " is outside its supported range " + supported);
        }
    }
}
