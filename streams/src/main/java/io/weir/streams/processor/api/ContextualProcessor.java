package io.weir.streams.processor.api;

/** A base {@link Processor} that keeps its context, for processors that forward or use stores. */
public abstract class ContextualProcessor<KIn, VIn, KOut, VOut> implements Processor<KIn, VIn, KOut, VOut> {
    private ProcessorContext<KOut, VOut> context;

    protected ContextualProcessor() {
    }

    @Override
    public void init(ProcessorContext<KOut, VOut> context) {
        this.context = context;
    }

    protected final ProcessorContext<KOut, VOut> context() {
        return context;
    }
}
