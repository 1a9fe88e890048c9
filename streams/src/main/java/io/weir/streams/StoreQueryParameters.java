package io.weir.streams;

import io.weir.streams.state.QueryableStoreType;

/** Which store {@link WeirStreams#store} opens for queries: its name and the view type. */
public final class StoreQueryParameters<T> {
    private final String storeName;
    private final QueryableStoreType<T> storeType;

    private StoreQueryParameters(String storeName, QueryableStoreType<T> storeType) {
        if (storeName == null || storeType == null) {
            throw new IllegalArgumentException("the store name and type are required");
        }
        this.storeName = storeName;
        this.storeType = storeType;
    }

    public static <T> StoreQueryParameters<T> fromNameAndType(String storeName, QueryableStoreType<T> storeType) {
        return new StoreQueryParameters<>(storeName, storeType);
    }

    public String storeName() {
        return storeName;
    }

    public QueryableStoreType<T> queryableStoreType() {
        return storeType;
    }
}
