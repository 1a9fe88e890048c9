package io.weir.streams.kstream.internals;

/**
 * An update of a table row as it flows between table nodes: the new value and the value it replaces
 * (null when the key is new, or when the update deletes it: newValue null).
 */
public record Change<V>(V newValue, V oldValue) {
}
