package io.weir.streams.kstream;

import java.util.function.Consumer;
import java.util.function.Function;

/**
 * One branch of a {@link BranchedKStream}: its name (appended to the split's prefix; the branch's
 * position when absent) and what to do with the branch stream: nothing (it goes into the result map),
 * a function (its result goes into the map, unless null) or a consumer (nothing goes into the map).
 */
public final class Branched<K, V> {
    private final String name;
    private final Function<? super KStream<K, V>, ? extends KStream<K, V>> function;
    private final Consumer<? super KStream<K, V>> consumer;

    private Branched(String name, Function<? super KStream<K, V>, ? extends KStream<K, V>> function,
                     Consumer<? super KStream<K, V>> consumer) {
        this.name = name;
        this.function = function;
        this.consumer = consumer;
    }

    public static <K, V> Branched<K, V> as(String name) {
        Named.validate(name);
        return new Branched<>(name, null, null);
    }

    public static <K, V> Branched<K, V> withFunction(Function<? super KStream<K, V>, ? extends KStream<K, V>> chain) {
        return new Branched<>(null, chain, null);
    }

    public static <K, V> Branched<K, V> withFunction(Function<? super KStream<K, V>, ? extends KStream<K, V>> chain, String name) {
        Named.validate(name);
        return new Branched<>(name, chain, null);
    }

    public static <K, V> Branched<K, V> withConsumer(Consumer<? super KStream<K, V>> chain) {
        return new Branched<>(null, null, chain);
    }

    public static <K, V> Branched<K, V> withConsumer(Consumer<? super KStream<K, V>> chain, String name) {
        Named.validate(name);
        return new Branched<>(name, null, chain);
    }

    public String name() {
        return name;
    }

    public Function<? super KStream<K, V>, ? extends KStream<K, V>> function() {
        return function;
    }

    public Consumer<? super KStream<K, V>> consumer() {
        return consumer;
    }
}
