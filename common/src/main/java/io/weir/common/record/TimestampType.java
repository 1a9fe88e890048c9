package io.weir.common.record;

/** Whether a batch's timestamps were set by the producer or by the broker on append (attribute bit 3). */
public enum TimestampType {
    CREATE_TIME(0, "CreateTime"),
    LOG_APPEND_TIME(1, "LogAppendTime");

    public final int id;
    public final String displayName;

    TimestampType(int id, String displayName) {
        this.id = id;
        this.displayName = displayName;
    }

    @Override
    public String toString() {
        return displayName;
    }
}
