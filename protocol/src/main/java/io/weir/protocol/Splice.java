package io.weir.protocol;

/** A file-backed records value that belongs at {@code position} of the written buffer. */
public record Splice(int position, Records.Sendable records) {
}
