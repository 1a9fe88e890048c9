package io.weir.admin;

/**
 * Options of one Admin call. One class for all calls keeps the API small: {@code timeoutMs}
 * overrides {@code default.api.timeout.ms}; {@code validateOnly} applies to createTopics,
 * createPartitions and incrementalAlterConfigs; {@code listInternal} to listTopics. Immutable;
 * each setter returns a copy.
 */
public final class AdminOptions {
    private static final AdminOptions DEFAULTS = new AdminOptions(null, false, false);

    private final Integer timeoutMs;
    private final boolean validateOnly;
    private final boolean listInternal;

    private AdminOptions(Integer timeoutMs, boolean validateOnly, boolean listInternal) {
        this.timeoutMs = timeoutMs;
        this.validateOnly = validateOnly;
        this.listInternal = listInternal;
    }

    public static AdminOptions defaults() {
        return DEFAULTS;
    }

    public AdminOptions timeoutMs(int ms) {
        if (ms < 0) {
            throw new IllegalArgumentException("timeoutMs must not be negative: " + ms);
        }
        return new AdminOptions(ms, validateOnly, listInternal);
    }

    public AdminOptions validateOnly(boolean v) {
        return new AdminOptions(timeoutMs, v, listInternal);
    }

    public AdminOptions listInternal(boolean v) {
        return new AdminOptions(timeoutMs, validateOnly, v);
    }

    /** The per-call timeout, or null to use {@code default.api.timeout.ms}. */
    public Integer timeoutMs() {
        return timeoutMs;
    }

    public boolean validateOnly() {
        return validateOnly;
    }

    public boolean listInternal() {
        return listInternal;
    }
}
