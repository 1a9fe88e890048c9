package io.weir.broker.api;

import io.weir.broker.network.Send;

/**
 * Where a request's outcome goes: the connection it came from ({@code RequestChannel.Request} in the
 * broker), or a capturing sink in tests that drive handlers without sockets. Exactly one method is
 * called, once.
 */
public interface ResponseSink {
    /** Sends the response frame (starting with its 4-byte size); the connection reads its next request. */
    void respond(Send response);

    /** Sends nothing (acks=0); the connection reads its next request. */
    void noResponse();

    /** Closes the connection (nothing can be framed for the request). */
    void closeConnection();
}
