package io.weir.broker.api;

import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.message.ApiVersionsResponse;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which handler answers which API, and at which versions: built once at startup from the handlers'
 * own declarations. Registering a second handler for an API, a version range outside what Weir's
 * message classes implement, or a feature twice is refused. The registry owns the ApiVersions handler,
 * so ApiVersions lists exactly the registered APIs, ranges and features, never the spec files alone.
 *
 * <p>Immutable once built, so thread-safe.
 */
public final class ApiHandlerRegistry {
    private final Map<ApiKeys, ApiHandler> handlers;
    private final Map<ApiKeys, VersionRange> versions;
    private final List<Feature> features;

    private ApiHandlerRegistry(Map<ApiKeys, ApiHandler> handlers, Map<ApiKeys, VersionRange> versions,
                               List<Feature> features) {
        this.handlers = handlers;
        this.versions = versions;
        this.features = features;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The handler for {@code api} at {@code version}, or null if no handler implements that version. */
    public ApiHandler handlerFor(ApiKeys api, short version) {
        VersionRange range = api == null ? null : versions.get(api);
        return range != null && range.contains(version) ? handlers.get(api) : null;
    }

    /** Every registered API and its versions (what ApiVersions advertises). */
    public Map<ApiKeys, VersionRange> apis() {
        return versions;
    }

    /** Every feature the registered handlers contribute. */
    public List<Feature> features() {
        return features;
    }

    /**
     * The ApiVersions response body for {@code error}: the registered APIs and, for v3+ clients, the
     * supported and finalized features. A single broker finalizes each feature at the level its handler
     * asks for; the finalized-features epoch is 0 once any feature exists, -1 (unknown) otherwise.
     */
    public ApiVersionsResponse apiVersionsResponse(Errors error) {
        List<ApiVersionsResponse.ApiVersion> keys = new ArrayList<>(versions.size());
        for (Map.Entry<ApiKeys, VersionRange> e : versions.entrySet()) {
            keys.add(new ApiVersionsResponse.ApiVersion().setApiKey(e.getKey().id())
                .setMinVersion(e.getValue().min()).setMaxVersion(e.getValue().max()));
        }
        List<ApiVersionsResponse.SupportedFeatureKey> supported = new ArrayList<>(features.size());
        List<ApiVersionsResponse.FinalizedFeatureKey> finalized = new ArrayList<>(features.size());
        for (Feature f : features) {
            supported.add(new ApiVersionsResponse.SupportedFeatureKey().setName(f.name())
                .setMinVersion(f.supported().min()).setMaxVersion(f.supported().max()));
            finalized.add(new ApiVersionsResponse.FinalizedFeatureKey().setName(f.name())
                .setMinVersionLevel(f.finalizedLevel()).setMaxVersionLevel(f.finalizedLevel()));
        }
        return new ApiVersionsResponse().setErrorCode(error.code()).setApiKeys(keys)
            .setSupportedFeatures(supported).setFinalizedFeatures(finalized)
            .setFinalizedFeaturesEpoch(features.isEmpty() ? -1L : 0L);
    }

    /** Collects handlers; {@link #build()} adds the ApiVersions handler. Not thread-safe. */
    public static final class Builder {
        private final Map<ApiKeys, ApiHandler> handlers = new EnumMap<>(ApiKeys.class);
        private final Map<ApiKeys, VersionRange> versions = new EnumMap<>(ApiKeys.class);
        private final Map<String, Feature> features = new LinkedHashMap<>();

        private Builder() {
        }

        /** Registers {@code handler} for every API it declares; refuses an API or feature already taken. */
        public Builder register(ApiHandler handler) {
            Map<ApiKeys, VersionRange> apis = handler.apis();
            if (apis.isEmpty()) {
                throw new IllegalArgumentException(handler.getClass().getSimpleName() + " declares no API");
            }
            for (Map.Entry<ApiKeys, VersionRange> e : apis.entrySet()) {
                ApiKeys api = e.getKey();
                ApiHandler existing = handlers.get(api);
                if (existing != null) {
                    throw new IllegalArgumentException(api.apiName() + " is already handled by "
                        + existing.getClass().getSimpleName() + "; " + handler.getClass().getSimpleName()
                        + " cannot register it too");
                }
                if (!VersionRange.all(api).contains(e.getValue())) {
                    throw new IllegalArgumentException(handler.getClass().getSimpleName() + " declares "
                        + api.apiName() + " " + e.getValue() + ", outside the versions Weir's messages implement, "
                        + VersionRange.all(api));
                }
            }
            for (Feature f : handler.features()) {
                if (features.containsKey(f.name())) {
                    throw new IllegalArgumentException("feature " + f.name() + " is already registered");
                }
            }
            for (Map.Entry<ApiKeys, VersionRange> e : apis.entrySet()) {
                handlers.put(e.getKey(), handler);
                versions.put(e.getKey(), e.getValue());
            }
            for (Feature f : handler.features()) {
                features.put(f.name(), f);
            }
            return this;
        }

        public ApiHandlerRegistry build() {
            ApiHandlerRegistry[] built = new ApiHandlerRegistry[1];
            register(new ApiVersionsHandler(() -> built[0]));
            built[0] = new ApiHandlerRegistry(Collections.unmodifiableMap(new EnumMap<>(handlers)),
                Collections.unmodifiableMap(new EnumMap<>(versions)), List.copyOf(features.values()));
            return built[0];
        }
    }

    /** ApiVersions: answers from the registry that owns it. */
    private static final class ApiVersionsHandler implements ApiHandler {
        private final java.util.function.Supplier<ApiHandlerRegistry> registry;

        ApiVersionsHandler(java.util.function.Supplier<ApiHandlerRegistry> registry) {
            this.registry = registry;
        }

        @Override
        public Map<ApiKeys, VersionRange> apis() {
            return Map.of(ApiKeys.API_VERSIONS, VersionRange.all(ApiKeys.API_VERSIONS));
        }

        @Override
        public void handle(RequestContext ctx, ApiMessage body) {
            ctx.respond(registry.get().apiVersionsResponse(Errors.NONE));
        }

        @Override
        public ApiMessage errorResponse(RequestHeader header, ApiMessage body, Errors error) {
            return registry.get().apiVersionsResponse(error);
        }
    }
}
