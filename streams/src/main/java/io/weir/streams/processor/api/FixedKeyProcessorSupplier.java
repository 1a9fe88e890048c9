package io.weir.streams.processor.api;

import io.weir.streams.state.StoreBuilder;

import java.util.Set;
import java.util.function.Supplier;

/** Makes a new {@link FixedKeyProcessor} for each task. */
@FunctionalInterface
public interface FixedKeyProcessorSupplier<KIn, VIn, VOut> extends Supplier<FixedKeyProcessor<KIn, VIn, VOut>> {

    @Override
    FixedKeyProcessor<KIn, VIn, VOut> get();

    default Set<StoreBuilder<?>> stores() {
        return Set.of();
    }
}
