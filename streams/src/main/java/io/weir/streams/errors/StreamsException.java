package io.weir.streams.errors;

/**
 * A failure of a stream job: a bad topology, a record that cannot be processed, a store that cannot
 * be opened. The message names where (task, topic, partition, offset, node, store) when known.
 */
public class StreamsException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public StreamsException(String message) {
        super(message);
    }

    public StreamsException(String message, Throwable cause) {
        super(message, cause);
    }
}
