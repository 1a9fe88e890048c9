package io.weir.broker.api;

import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;
import io.weir.protocol.RequestHeader;

import java.util.List;
import java.util.Map;

/**
 * The broker side of one API family (produce, fetch, topic admin, groups, ...): the API keys and
 * version ranges it implements, how it answers a request, and how it answers one with an error. The
 * {@link ApiHandlerRegistry} routes each request to the one handler that declared its API and version,
 * and ApiVersions advertises exactly what the registered handlers declare (Redpanda's
 * {@code handler<Api, Min, Max>}, in Java).
 *
 * <p>Implementations are called on request-handler threads concurrently and must be thread-safe.
 */
public interface ApiHandler {
    /** The APIs this handler answers and, for each, the versions it implements (within the spec's range). */
    Map<ApiKeys, VersionRange> apis();

    /** Features this handler's APIs implement, advertised in ApiVersions; none by default. */
    default List<Feature> features() {
        return List.of();
    }

    /**
     * Answers one request through {@code ctx}, now or later. Throwing is allowed: the dispatcher then
     * answers with {@link #errorResponse} for the error {@link Errors#forException} maps the throwable to,
     * unless the handler had already answered, and the connection stays open.
     */
    void handle(RequestContext ctx, ApiMessage body);

    /**
     * The response to {@code body} in which every item (partition, topic, resource, group) carries
     * {@code error}; null when the request gets no response (Produce with acks=0).
     */
    ApiMessage errorResponse(RequestHeader header, ApiMessage body, Errors error);
}
