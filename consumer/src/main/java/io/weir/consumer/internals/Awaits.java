package io.weir.consumer.internals;

import io.weir.common.Time;
import io.weir.consumer.errors.WakeupException;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.Supplier;

/** Waiting on the polling thread for futures completed by the network thread, honouring wakeup(). */
final class Awaits {
    private Awaits() {
    }

    /**
     * Waits until {@code f} completes or {@code deadlineMs}; returns its value, or null if it failed
     * or is not done (check {@code isDone()}). Throws {@link WakeupException} if {@code woken} says so.
     */
    static <T> T await(CompletableFuture<T> f, long deadlineMs, Time time, Waker waker, Supplier<Boolean> woken) {
        f.whenComplete((v, e) -> waker.signal());
        while (!f.isDone()) {
            if (woken.get()) {
                throw new WakeupException();
            }
            long seen = waker.count();
            if (f.isDone()) {
                break;
            }
            long left = deadlineMs - time.milliseconds();
            if (left <= 0) {
                return null;
            }
            waker.await(seen, left);
        }
        if (woken.get()) {
            throw new WakeupException();
        }
        return f.isCompletedExceptionally() ? null : f.join();
    }

    static void sleep(long ms, Waker waker, Supplier<Boolean> woken) {
        long end = System.nanoTime() + ms * 1_000_000L;
        while (true) {
            if (woken.get()) {
                throw new WakeupException();
            }
            long left = (end - System.nanoTime()) / 1_000_000L;
            if (left <= 0) {
                return;
            }
            waker.await(waker.count(), left);
        }
    }

    static Throwable cause(CompletableFuture<?> f) {
        try {
            f.get();
            return null;
        } catch (ExecutionException e) {
            return unwrap(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return e;
        } catch (java.util.concurrent.CancellationException e) {
            return e;
        }
    }

    static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
