package io.weir.log;

import java.util.List;

/**
 * What a log read returns: where the first returned batch starts, and the file region to send. The
 * region may end in a partial batch (as Kafka's fetches do); clients drop it and fetch again.
 * {@code abortedTransactions} is null unless the read asked for them.
 */
public record FetchDataInfo(LogOffsetMetadata fetchOffsetMetadata, FileRegion records,
                            List<AbortedTxn> abortedTransactions) {
    public static FetchDataInfo empty(LogOffsetMetadata at) {
        return new FetchDataInfo(at, FileRegion.empty(), null);
    }
}
