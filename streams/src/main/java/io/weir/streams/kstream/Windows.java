package io.weir.streams.kstream;

import java.util.Map;

/**
 * How a windowed aggregation cuts time: which windows each timestamp falls into, their size, and the
 * grace period after a window's end during which late (out-of-order) records are still applied.
 */
public abstract class Windows<W extends Window> {

    protected Windows() {
    }

    /** The windows containing {@code timestampMs}, by start time. */
    public abstract Map<Long, W> windowsFor(long timestampMs);

    /** The size of each window in ms. */
    public abstract long size();

    /** How long after its end a window still accepts records, in ms. */
    public abstract long gracePeriodMs();
}
