package io.weir.streams.state.internals;

/**
 * A storage engine failed for an operating reason (an I/O error, a lock held by another opener, a store
 * written by a newer format): the store is not known to be damaged, so it must NOT be wiped.
 * {@link StoreCorruptedException} is the one subclass that says the store's files are damaged.
 */
public class StateStoreException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public StateStoreException(String message, Throwable cause) {
        super(message, cause);
    }

    public StateStoreException(String message) {
        super(message);
    }
}
