package io.weir.streams.processor.api;

import io.weir.streams.state.StoreBuilder;

import java.util.Set;
import java.util.function.Supplier;

/**
 * Makes a new {@link Processor} for each task; it must return a new instance each call. It may name
 * the stores its processors use through {@link #stores}, which are then added and connected for it.
 */
@FunctionalInterface
public interface ProcessorSupplier<KIn, VIn, KOut, VOut> extends Supplier<Processor<KIn, VIn, KOut, VOut>> {

    @Override
    Processor<KIn, VIn, KOut, VOut> get();

    /** Stores to add and connect to this processor (none by default). */
    default Set<StoreBuilder<?>> stores() {
        return Set.of();
    }
}
