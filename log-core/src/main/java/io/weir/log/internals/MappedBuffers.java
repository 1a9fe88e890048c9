package io.weir.log.internals;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.nio.MappedByteBuffer;

/**
 * Releases a memory mapping now instead of at some later garbage collection. Without it a deleted or
 * trimmed index keeps its pages (and, for a deleted file, its disk space) until the buffer is
 * collected. Uses {@code sun.misc.Unsafe.invokeCleaner} (module jdk.unsupported), and quietly does
 * nothing if that is unavailable.
 *
 * <p>The caller must guarantee no thread touches the buffer after {@link #unmap}: an access after it
 * crashes the JVM. Indexes ensure that with their own lock.
 */
public final class MappedBuffers {
    private static final Object UNSAFE;
    private static final Method INVOKE_CLEANER;

    static {
        Object unsafe = null;
        Method invoke = null;
        try {
            Class<?> c = Class.forName("sun.misc.Unsafe");
            Field f = c.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            unsafe = f.get(null);
            invoke = c.getMethod("invokeCleaner", java.nio.ByteBuffer.class);
        } catch (ReflectiveOperationException | RuntimeException e) {
            unsafe = null;
            invoke = null;
        }
        UNSAFE = unsafe;
        INVOKE_CLEANER = invoke;
    }

    private MappedBuffers() {
    }

    public static void unmap(MappedByteBuffer buffer) {
        if (buffer == null || INVOKE_CLEANER == null) {
            return;
        }
        try {
            INVOKE_CLEANER.invoke(UNSAFE, buffer);
        } catch (ReflectiveOperationException | RuntimeException e) {
            // the mapping is released by GC instead; nothing else depends on it
        }
    }
}
