package io.weir.protocol.client;

import java.nio.ByteBuffer;

/**
 * Arrays for large response frames, handed back by their reader once nothing refers to the frame any more
 * (the consumer's fetcher, when every partition of a fetch response has been read out and its records hold
 * no view of the frame). A new {@code byte[]} of a few megabytes per fetch response costs its zeroing and, in a
 * young heap, the page faults of fresh memory: the bulk of a fast consumer's network thread (profiled: ~55 % of
 * it reading 2 M records). A pooled array is neither zeroed nor faulted in again.
 *
 * <p>Frames under {@link #MIN_POOLED_BYTES} (cheap, from the thread's allocation buffer) and over
 * {@link #MAX_POOLED_BYTES} are allocated as usual. At most {@code maxArrays} arrays are kept; an array nobody
 * hands back is simply garbage, so a frame that never comes back (a metadata response, a fetch dropped after a
 * seek) costs nothing but the reuse.
 *
 * <p>Thread-safe: the network thread takes, the application's polling thread releases.
 */
public final class ReceiveBufferPool {
    /** Frames smaller than this are not pooled. */
    public static final int MIN_POOLED_BYTES = 64 * 1024;
    /** Nor frames larger than this: an idle client does not keep tens of megabytes for one rare large frame. */
    public static final int MAX_POOLED_BYTES = 16 * 1024 * 1024;
    /** Pooled arrays are sized in steps of this, so that frames of nearby sizes can share them. */
    private static final int STEP = 64 * 1024;

    private final byte[][] free;
    private int count;
    private long reused;

    public ReceiveBufferPool(int maxArrays) {
        if (maxArrays <= 0) {
            throw new IllegalArgumentException("maxArrays must be positive, was " + maxArrays);
        }
        this.free = new byte[maxArrays][];
    }

    /**
     * A buffer for a frame of {@code size} bytes (position 0, limit {@code size}): a pooled array when one is
     * large enough (the smallest such), else a new one (rounded up to the pool's step when it is pooled).
     */
    public ByteBuffer allocate(int size) {
        if (size < MIN_POOLED_BYTES || size > MAX_POOLED_BYTES) {
            return ByteBuffer.allocate(size);
        }
        byte[] array = take(size);
        if (array == null) {
            array = new byte[(size + STEP - 1) / STEP * STEP];
        }
        return ByteBuffer.wrap(array, 0, size).slice();
    }

    private synchronized byte[] take(int size) {
        int best = -1;
        for (int i = 0; i < count; i++) {
            if (free[i].length >= size && (best < 0 || free[i].length < free[best].length)) {
                best = i;
            }
        }
        if (best < 0) {
            return null;
        }
        byte[] a = free[best];
        free[best] = free[--count];
        free[count] = null;
        reused++;
        return a;
    }

    /**
     * Hands back the array of a frame from {@link #allocate}, which nothing refers to any more. Arrays under
     * {@link #MIN_POOLED_BYTES} or over {@link #MAX_POOLED_BYTES} are ignored; when the pool is
     * full the smallest array kept is dropped for a larger one.
     *
     * @throws IllegalStateException if the array is in the pool already (handed back twice: a holder's bug
     *                               that would let two frames share an array)
     */
    public synchronized void release(byte[] array) {
        if (array.length < MIN_POOLED_BYTES || array.length > MAX_POOLED_BYTES) {
            return;
        }
        for (int i = 0; i < count; i++) {
            if (free[i] == array) {
                throw new IllegalStateException("an array was handed back twice");
            }
        }
        if (count < free.length) {
            free[count++] = array;
            return;
        }
        int smallest = 0;
        for (int i = 1; i < count; i++) {
            if (free[i].length < free[smallest].length) {
                smallest = i;
            }
        }
        if (free[smallest].length < array.length) {
            free[smallest] = array;
        }
    }

    /** How many frames were read into an array handed back before (for tests and benchmarks). */
    public synchronized long reused() {
        return reused;
    }

    /** How many arrays the pool holds now. */
    public synchronized int size() {
        return count;
    }
}
