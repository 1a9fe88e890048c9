package io.weir.protocol.client;

import io.weir.protocol.ApiKeys;
import io.weir.protocol.ApiMessage;
import io.weir.protocol.Errors;

/**
 * Builds a request once the version is known. The {@link NetworkClient} picks the highest version in
 * [{@link #oldestAllowedVersion()}, {@link #latestAllowedVersion()}] that the broker also supports,
 * then calls {@link #build(short)}, so callers can fill version-dependent fields (e.g. DeleteTopics
 * names before v6, ids from v6) without knowing the broker.
 *
 * <p>It also tells the client how to retry: {@link #retriableError} inspects a response for a
 * top-level retriable error (NOT_CONTROLLER, COORDINATOR_LOAD_IN_PROGRESS ...), and
 * {@link #retryOnDisconnect()} says whether resending after a lost connection is safe.
 * Implementations are called on the client's I/O thread and must not block.
 */
public interface RequestBuilder {
    ApiKeys api();

    default short oldestAllowedVersion() {
        return api().lowestVersion();
    }

    default short latestAllowedVersion() {
        return api().highestVersion();
    }

    /** The request body at {@code version}; may be called once per attempt. */
    ApiMessage build(short version);

    /**
     * A retriable error in {@code response} that should make the client resend the whole request
     * after {@code retry.backoff.ms} (re-choosing the node), or NONE to hand the response to the
     * caller as it is. Per-item errors are left to the caller.
     */
    default Errors retriableError(ApiMessage response) {
        return Errors.NONE;
    }

    /**
     * Whether the request may be sent again when the connection fails or the request times out
     * after it may have reached the broker. True for reads and for admin operations that the broker
     * answers idempotently; a non-idempotent producer says false.
     */
    default boolean retryOnDisconnect() {
        return true;
    }

    /**
     * Whether the call may wait, until its deadline, for a connection to its node. True (the default)
     * keeps it queued through refused connects and reconnect backoff. False fails it at once with a
     * retriable {@link DisconnectException} when its node is not in the metadata, is backing off after
     * a failed connection, or the connection attempt fails: for callers that own their retries and
     * route each attempt themselves (the producer, whose next attempt should go to whichever broker
     * metadata names leader by then, not sit out {@code request.timeout.ms} on a dead one — issue 12).
     */
    default boolean waitForConnection() {
        return true;
    }

    /**
     * False for a request the broker never answers (Produce with acks=0): the call completes with a
     * null body as soon as the request is queued on a ready connection, and takes no in-flight slot.
     */
    default boolean expectsResponse() {
        return true;
    }

    /** A builder that sends {@code message} unchanged at the best version both sides support. */
    static RequestBuilder of(ApiMessage message) {
        ApiKeys api = ApiKeys.forId(message.apiKey());
        if (api == null) {
            throw new IllegalArgumentException("api key " + message.apiKey() + " is not implemented");
        }
        return new RequestBuilder() {
            @Override
            public ApiKeys api() {
                return api;
            }

            @Override
            public short oldestAllowedVersion() {
                return (short) Math.max(api.lowestVersion(), message.lowestVersion());
            }

            @Override
            public short latestAllowedVersion() {
                return (short) Math.min(api.highestVersion(), message.highestVersion());
            }

            @Override
            public ApiMessage build(short version) {
                return message;
            }
        };
    }
}
