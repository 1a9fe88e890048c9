package io.weir.broker.api;

import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.RequestHeader;
import io.weir.protocol.message.ApiVersionsResponse;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ApiHandlerRegistryTest {
    /** A handler that only declares. */
    private record Declaring(Map<ApiKeys, VersionRange> apis, List<Feature> features) implements ApiHandler {
        Declaring(Map<ApiKeys, VersionRange> apis) {
            this(apis, List.of());
        }

        @Override
        public void handle(RequestContext ctx, ApiMessage body) {
            throw new UnsupportedOperationException();
        }

        @Override
        public ApiMessage errorResponse(RequestHeader header, ApiMessage body, Errors error) {
            throw new UnsupportedOperationException();
        }
    }

    @Test
    void shouldRefuseASecondHandlerForTheSameApi() {
        ApiHandlerRegistry.Builder b = ApiHandlerRegistry.builder()
            .register(new Declaring(Map.of(ApiKeys.PRODUCE, VersionRange.all(ApiKeys.PRODUCE))));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.register(new Declaring(
            Map.of(ApiKeys.METADATA, VersionRange.all(ApiKeys.METADATA), ApiKeys.PRODUCE, VersionRange.of(3, 5)))));
        assertTrue(e.getMessage().contains("Produce"), e.getMessage());
        // nothing of the refused handler was registered
        ApiHandlerRegistry r = b.build();
        assertNull(r.handlerFor(ApiKeys.METADATA, (short) 1));
    }

    @Test
    void shouldRefuseApiVersionsFromAHandlerBecauseTheRegistryAnswersIt() {
        ApiHandlerRegistry.Builder b = ApiHandlerRegistry.builder()
            .register(new Declaring(Map.of(ApiKeys.API_VERSIONS, VersionRange.all(ApiKeys.API_VERSIONS))));
        assertThrows(IllegalArgumentException.class, b::build);
    }

    @Test
    void shouldRefuseVersionsTheMessagesDoNotImplement() {
        short above = (short) (ApiKeys.FETCH.highestVersion() + 1);
        assertThrows(IllegalArgumentException.class, () -> ApiHandlerRegistry.builder().register(new Declaring(
            Map.of(ApiKeys.FETCH, new VersionRange(ApiKeys.FETCH.lowestVersion(), above)))));
    }

    @Test
    void shouldRefuseAFeatureRegisteredTwice() {
        Feature tv = new Feature("transaction.version", VersionRange.of(0, 2), (short) 2);
        ApiHandlerRegistry.Builder b = ApiHandlerRegistry.builder()
            .register(new Declaring(Map.of(ApiKeys.END_TXN, VersionRange.all(ApiKeys.END_TXN)), List.of(tv)));
        assertThrows(IllegalArgumentException.class, () -> b.register(
            new Declaring(Map.of(ApiKeys.ADD_OFFSETS_TO_TXN, VersionRange.all(ApiKeys.ADD_OFFSETS_TO_TXN)), List.of(tv))));
    }

    @Test
    void shouldAdvertiseExactlyWhatHandlersDeclare() {
        Declaring metadata = new Declaring(Map.of(ApiKeys.METADATA, VersionRange.of(1, 5)));
        Declaring fetch = new Declaring(Map.of(ApiKeys.FETCH, VersionRange.all(ApiKeys.FETCH),
            ApiKeys.LIST_OFFSETS, VersionRange.all(ApiKeys.LIST_OFFSETS)));
        ApiHandlerRegistry r = ApiHandlerRegistry.builder().register(metadata).register(fetch).build();

        ApiVersionsResponse resp = r.apiVersionsResponse(Errors.NONE);
        Map<Short, VersionRange> advertised = new HashMap<>();
        for (ApiVersionsResponse.ApiVersion v : resp.apiKeys()) {
            advertised.put(v.apiKey(), new VersionRange(v.minVersion(), v.maxVersion()));
        }
        assertEquals(Map.of(ApiKeys.METADATA.id(), VersionRange.of(1, 5),
            ApiKeys.FETCH.id(), VersionRange.all(ApiKeys.FETCH),
            ApiKeys.LIST_OFFSETS.id(), VersionRange.all(ApiKeys.LIST_OFFSETS),
            ApiKeys.API_VERSIONS.id(), VersionRange.all(ApiKeys.API_VERSIONS)), advertised);
        assertTrue(resp.supportedFeatures().isEmpty());
        assertTrue(resp.finalizedFeatures().isEmpty());
        assertEquals(-1L, resp.finalizedFeaturesEpoch());

        assertSame(metadata, r.handlerFor(ApiKeys.METADATA, (short) 5));
        assertNull(r.handlerFor(ApiKeys.METADATA, (short) 0), "below the declared range");
        assertNull(r.handlerFor(ApiKeys.METADATA, (short) 6), "above the declared range");
        assertNull(r.handlerFor(ApiKeys.PRODUCE, (short) 9), "not registered");
        assertNull(r.handlerFor(null, (short) 0), "unknown key");
    }

    @Test
    void shouldAdvertiseContributedFeaturesAsSupportedAndFinalized() {
        ApiHandlerRegistry r = ApiHandlerRegistry.builder().register(new Declaring(
            Map.of(ApiKeys.END_TXN, VersionRange.all(ApiKeys.END_TXN)),
            List.of(new Feature("transaction.version", VersionRange.of(0, 2), (short) 2)))).build();
        ApiVersionsResponse resp = r.apiVersionsResponse(Errors.NONE);
        assertEquals(1, resp.supportedFeatures().size());
        ApiVersionsResponse.SupportedFeatureKey s = resp.supportedFeatures().get(0);
        assertEquals("transaction.version", s.name());
        assertEquals(0, s.minVersion());
        assertEquals(2, s.maxVersion());
        ApiVersionsResponse.FinalizedFeatureKey f = resp.finalizedFeatures().get(0);
        assertEquals("transaction.version", f.name());
        assertEquals(2, f.maxVersionLevel());
        assertEquals(0L, resp.finalizedFeaturesEpoch());
    }
}
