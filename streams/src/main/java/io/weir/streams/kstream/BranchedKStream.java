package io.weir.streams.kstream;

import java.util.Map;

/**
 * The branches of a {@code KStream.split()}: each record goes to the first branch whose predicate it
 * passes, or to the default branch, or nowhere. The map returned at the end holds each branch's
 * stream under prefix + branch name.
 */
public interface BranchedKStream<K, V> {

    BranchedKStream<K, V> branch(Predicate<? super K, ? super V> predicate);

    BranchedKStream<K, V> branch(Predicate<? super K, ? super V> predicate, Branched<K, V> branched);

    Map<String, KStream<K, V>> defaultBranch();

    Map<String, KStream<K, V>> defaultBranch(Branched<K, V> branched);

    /** Ends the split; records no branch takes are dropped. */
    Map<String, KStream<K, V>> noDefaultBranch();
}
