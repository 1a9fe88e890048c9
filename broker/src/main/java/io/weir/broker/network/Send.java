package io.weir.broker.network;

import java.io.IOException;
import java.nio.channels.GatheringByteChannel;

/**
 * Bytes on their way to a socket: written in as many non-blocking steps as the socket needs.
 * Not thread-safe: written by one thread at a time, the thread that answered the request and then,
 * for what the socket did not take, the network thread it was handed to (the hand-off queue publishes it).
 */
public interface Send {
    /** Writes as much as the channel takes now; returns the bytes written. */
    long writeTo(GatheringByteChannel channel) throws IOException;

    boolean completed();

    /** Total size of this send in bytes. */
    long size();
}
