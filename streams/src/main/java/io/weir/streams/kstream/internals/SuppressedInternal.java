package io.weir.streams.kstream.internals;

import io.weir.streams.kstream.Named;
import io.weir.streams.kstream.Suppressed;

/** The until-window-closes suppression with an optional name. Immutable. */
public record SuppressedInternal<K>(String name) implements Suppressed<K> {

    @Override
    public Suppressed<K> withName(String newName) {
        Named.validate(newName);
        return new SuppressedInternal<>(newName);
    }
}
