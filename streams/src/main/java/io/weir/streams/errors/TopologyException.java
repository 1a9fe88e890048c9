package io.weir.streams.errors;

/** A topology that cannot run: a duplicate or unknown node name, a missing parent, a store not added. */
public class TopologyException extends StreamsException {
    private static final long serialVersionUID = 1L;

    public TopologyException(String message) {
        super("Invalid topology: " + message);
    }
}
