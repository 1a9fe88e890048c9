package io.weir.streams.kstream;

/** The aggregate of a key before its first record ({@code aggregate}). */
@FunctionalInterface
public interface Initializer<VA> {
    VA apply();
}
