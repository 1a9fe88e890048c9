package io.weir.protocol;

import io.weir.protocol.internals.ProtocolWriter;

/**
 * A request or response body of one API. Implementations are generated from
 * {@code protocol/src/main/spec/*.spec} into {@code io.weir.protocol.message}; each reads itself with
 * a static {@code read(ProtocolReader, short version)} and writes itself at any version in
 * [{@link #lowestVersion()}, {@link #highestVersion()}].
 */
public interface ApiMessage {
    /** The API key (e.g. 0 for Produce). */
    short apiKey();

    short lowestVersion();

    short highestVersion();

    /** Encoded size of the body at {@code version}, excluding header and frame size. */
    int size(short version);

    /** Writes the body at {@code version}; the writer's buffer must have {@link #size(short)} bytes free. */
    void write(ProtocolWriter writer, short version);
}
