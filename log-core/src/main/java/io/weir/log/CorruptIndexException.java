package io.weir.log;

import io.weir.common.errors.StorageException;

/** An index file breaks its invariants (order, bounds); the log rebuilds it from the segment's data. */
public final class CorruptIndexException extends StorageException {
    private static final long serialVersionUID = 1L;

    public CorruptIndexException(String message) {
        super(message);
    }
}
