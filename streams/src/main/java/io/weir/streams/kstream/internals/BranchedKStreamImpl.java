package io.weir.streams.kstream.internals;

import io.weir.streams.kstream.Branched;
import io.weir.streams.kstream.BranchedKStream;
import io.weir.streams.kstream.KStream;
import io.weir.streams.kstream.Predicate;
import io.weir.streams.processor.api.ProcessorSupplier;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The split node and its branches: one processor evaluates the predicates in order and forwards each
 * record to the child node of the first branch that takes it. Branch children are pass-through nodes
 * named {@code <prefix><branch name or position>}.
 */
@SuppressWarnings({"unchecked", "rawtypes"})
final class BranchedKStreamImpl<K, V> implements BranchedKStream<K, V> {
    private final KStreamImpl<K, V> source;
    private final String splitName;
    private final String prefix;
    private final List<Predicate<Object, Object>> predicates = new ArrayList<>();
    private final List<String> children = new ArrayList<>();
    private final Map<String, KStream<K, V>> result = new LinkedHashMap<>();
    private String defaultChild;
    private boolean ended;

    BranchedKStreamImpl(KStreamImpl<K, V> source, String splitName, String prefix) {
        this.source = source;
        this.splitName = splitName;
        this.prefix = prefix;
    }

    /** The split processor; it reads the branch lists when the topology is built, after all branches exist. */
    ProcessorSupplier<Object, Object, Object, Object> supplier() {
        return Processors.stateless((ctx, r) -> {
            for (int i = 0; i < predicates.size(); i++) {
                if (predicates.get(i).test(r.key(), r.value())) {
                    ctx.forward(r, children.get(i));
                    return;
                }
            }
            if (defaultChild != null) {
                ctx.forward(r, defaultChild);
            }
        });
    }

    @Override
    public BranchedKStream<K, V> branch(Predicate<? super K, ? super V> predicate) {
        return branch(predicate, Branched.as(String.valueOf(predicates.size() + 1)));
    }

    @Override
    public BranchedKStream<K, V> branch(Predicate<? super K, ? super V> predicate, Branched<K, V> branched) {
        checkOpen();
        Objects.requireNonNull(predicate, "predicate");
        String child = addBranch(branched, String.valueOf(predicates.size() + 1));
        predicates.add((Predicate) predicate);
        children.add(child);
        return this;
    }

    @Override
    public Map<String, KStream<K, V>> defaultBranch() {
        return defaultBranch(Branched.as("0"));
    }

    @Override
    public Map<String, KStream<K, V>> defaultBranch(Branched<K, V> branched) {
        checkOpen();
        defaultChild = addBranch(branched, "0");
        ended = true;
        return Map.copyOf(result);
    }

    @Override
    public Map<String, KStream<K, V>> noDefaultBranch() {
        checkOpen();
        ended = true;
        return Map.copyOf(result);
    }

    private String addBranch(Branched<K, V> branched, String position) {
        Objects.requireNonNull(branched, "branched");
        String name = prefix + (branched.name() != null ? branched.name() : position);
        source.builder.topology().addProcessor(name, Processors.stateless((ctx, r) -> ctx.forward(r)), splitName);
        KStream<K, V> stream = new KStreamImpl<>(source.builder, name, source.keySerde, source.valueSerde, source.repartitionRequired);
        if (branched.function() != null) {
            KStream<K, V> out = branched.function().apply(stream);
            if (out != null) {
                result.put(name, out);
            }
        } else if (branched.consumer() != null) {
            branched.consumer().accept(stream);
        } else {
            result.put(name, stream);
        }
        return name;
    }

    private void checkOpen() {
        if (ended) {
            throw new IllegalStateException("split " + splitName + " already ended with defaultBranch()/noDefaultBranch()");
        }
    }
}
