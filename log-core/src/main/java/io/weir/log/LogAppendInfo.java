package io.weir.log;

import io.weir.common.record.RecordBatch;

/**
 * The outcome of an append. When {@link #producerCheck()} is not OK nothing was appended: for a
 * DUPLICATE the offsets are those of the original batch; for other results they are -1.
 *
 * @param firstOffset          offset of the first record appended
 * @param lastOffset           offset of the last record appended
 * @param maxTimestamp         largest batch timestamp (the append time under LogAppendTime)
 * @param offsetOfMaxTimestamp last offset of the batch holding the largest timestamp
 * @param logAppendTimeMs      the broker time used for LogAppendTime, else -1
 * @param recordCount          records appended
 * @param sizeInBytes          bytes appended
 * @param producerCheck        the idempotence verdict
 */
public record LogAppendInfo(long firstOffset, long lastOffset, long maxTimestamp, long offsetOfMaxTimestamp,
                            long logAppendTimeMs, int recordCount, int sizeInBytes, ProducerAppendCheck producerCheck) {

    public boolean appended() {
        return producerCheck.isOk() && sizeInBytes > 0;
    }

    static LogAppendInfo notAppended(ProducerAppendCheck check) {
        return new LogAppendInfo(check.firstOffset(), check.lastOffset(), RecordBatch.NO_TIMESTAMP, -1, -1, 0, 0, check);
    }

    static LogAppendInfo empty(long nextOffset) {
        return new LogAppendInfo(nextOffset, nextOffset - 1, RecordBatch.NO_TIMESTAMP, -1, -1, 0, 0, ProducerAppendCheck.OK);
    }
}
