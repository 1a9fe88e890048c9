package io.weir.broker.coordinator.runtime;

import java.util.List;

/**
 * What a write operation produced: the records to append (possibly none) and the response to give
 * once they are committed.
 *
 * <p>An optional {@link Completion} runs on the shard's queue when the outcome of the append is
 * known: after the records are committed, or after the append failed (then nothing was replayed, so
 * the state is as it was before the operation). It may react (answer members that were waiting,
 * start a rebalance) and returns the response to give; without one, a failed append fails the
 * response with the {@link CoordinatorException}.
 *
 * @param <T> the response type
 * @param <R> the record type
 */
public final class CoordinatorResult<T, R> {
    /** Runs when the fate of the records is known; {@code failure} is null when they were committed. */
    @FunctionalInterface
    public interface Completion<T> {
        T complete(T response, CoordinatorException failure);
    }

    private final List<R> records;
    private final T response;
    private final Completion<T> completion;

    private CoordinatorResult(List<R> records, T response, Completion<T> completion) {
        this.records = List.copyOf(records);
        this.response = response;
        this.completion = completion;
    }

    /** Records to append and the response to give once they are committed. */
    public static <T, R> CoordinatorResult<T, R> of(List<R> records, T response) {
        return new CoordinatorResult<>(records, response, null);
    }

    /** Records to append, a response, and what to do once the append's fate is known. */
    public static <T, R> CoordinatorResult<T, R> of(List<R> records, T response, Completion<T> completion) {
        return new CoordinatorResult<>(records, response, completion);
    }

    /** Nothing to append: the response (given once earlier writes of the shard are committed). */
    public static <T, R> CoordinatorResult<T, R> response(T response) {
        return new CoordinatorResult<>(List.of(), response, null);
    }

    public List<R> records() {
        return records;
    }

    public T response() {
        return response;
    }

    /** The response to give now that the append succeeded ({@code failure} null) or failed. */
    T complete(CoordinatorException failure) {
        if (completion != null) {
            return completion.complete(response, failure);
        }
        if (failure != null) {
            throw failure;
        }
        return response;
    }
}
