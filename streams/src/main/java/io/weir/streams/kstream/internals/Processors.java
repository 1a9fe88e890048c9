package io.weir.streams.kstream.internals;

import io.weir.streams.processor.api.ContextualProcessor;
import io.weir.streams.processor.api.ProcessorContext;
import io.weir.streams.processor.api.ProcessorSupplier;
import io.weir.streams.processor.api.Record;

/** Builds the DSL's stateless processors from one lambda over (context, record). */
final class Processors {
    private Processors() {
    }

    @FunctionalInterface
    interface Handler {
        void handle(ProcessorContext<Object, Object> context, Record<Object, Object> record);
    }

    static ProcessorSupplier<Object, Object, Object, Object> stateless(Handler handler) {
        return () -> new ContextualProcessor<>() {
            @Override
            public void process(Record<Object, Object> record) {
                handler.handle(context(), record);
            }
        };
    }
}
