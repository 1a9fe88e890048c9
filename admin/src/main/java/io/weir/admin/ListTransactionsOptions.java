package io.weir.admin;

import java.util.Set;

/**
 * Filters of {@link Admin#listTransactions}: only these states (coordinator names such as "Ongoing";
 * empty for all), only these producer ids (empty for all), only transactions running longer than
 * {@code durationFilterMs} (-1 for all; needs ListTransactions v1). Immutable.
 */
public record ListTransactionsOptions(Set<String> stateFilters, Set<Long> producerIdFilters, long durationFilterMs) {
    public ListTransactionsOptions {
        stateFilters = Set.copyOf(stateFilters);
        producerIdFilters = Set.copyOf(producerIdFilters);
    }

    /** No filter: every transactional id. */
    public static ListTransactionsOptions all() {
        return new ListTransactionsOptions(Set.of(), Set.of(), -1);
    }
}
