package io.weir.examples;

import io.weir.streams.StreamsBuilder;
import io.weir.streams.StreamsJob;
import io.weir.streams.Topology;
import io.weir.streams.kstream.Consumed;
import io.weir.streams.kstream.Joined;
import io.weir.streams.kstream.KTable;
import io.weir.streams.kstream.Materialized;
import io.weir.streams.kstream.Produced;
import io.weir.streams.kstream.Repartitioned;
import io.weir.streams.serialization.Serdes;

import java.util.Properties;

/**
 * Order enrichment, a stream-table join: orders keyed by order id with the value
 * {@code <customer id>,<item>} (e.g. {@code o1 → c1,2 x book}) from {@code enrichment.orders.topic}
 * (default {@value #DEFAULT_ORDERS}) are joined with the customers table, customer id → customer
 * (any text, e.g. {@code c1 → Alice, Berlin}) from {@code enrichment.customers.topic} (default
 * {@value #DEFAULT_CUSTOMERS}), and written to {@code enrichment.output.topic} (default
 * {@value #DEFAULT_OUTPUT}) keyed by order id again, with the value
 * {@code <order id>,<customer id>,<item>,<customer>} (e.g. {@code o1,c1,2 x book,Alice, Berlin}).
 *
 * <p>A stream-table join looks the table up by the stream's key, on the same partition, so the orders are
 * re-keyed by customer id ({@code selectKey}) and written through the repartition topic
 * {@code <application.id>-}{@value #REPARTITION}{@code -repartition}; it has the partition count of the
 * widest source topic, so create the orders and customers topics with the same number of partitions (the
 * customers topic must be partitioned by customer id, as any producer's default partitioner does). It is a
 * left join: an order whose customer is not (yet) in the table is not lost but written with
 * {@value #UNKNOWN_CUSTOMER} in place of the customer. The table is the store {@value #CUSTOMERS_STORE}.
 * An order joins the customer as the table holds it when the order is processed; a later update of the
 * customer does not re-emit old orders. A malformed order (no customer id) is dropped.
 */
public final class OrderEnrichment implements StreamsJob {
    public static final String ORDERS_TOPIC_CONFIG = "enrichment.orders.topic";
    public static final String CUSTOMERS_TOPIC_CONFIG = "enrichment.customers.topic";
    public static final String OUTPUT_TOPIC_CONFIG = "enrichment.output.topic";
    public static final String DEFAULT_ORDERS = "orders";
    public static final String DEFAULT_CUSTOMERS = "customers";
    public static final String DEFAULT_OUTPUT = "enriched-orders";
    /** The store the customers table is kept in. */
    public static final String CUSTOMERS_STORE = "customers-store";
    /** The name part of the repartition topic of the orders keyed by customer id. */
    public static final String REPARTITION = "orders-by-customer";
    /** What an order whose customer is unknown carries in the customer's place. */
    public static final String UNKNOWN_CUSTOMER = "<unknown customer>";

    /** Needed by the runner. */
    public OrderEnrichment() {
    }

    @Override
    public Topology topology(Properties config) {
        StreamsBuilder builder = new StreamsBuilder();
        KTable<String, String> customers = builder.table(config.getProperty(CUSTOMERS_TOPIC_CONFIG, DEFAULT_CUSTOMERS),
            Consumed.with(Serdes.String(), Serdes.String()), Materialized.as(CUSTOMERS_STORE));
        builder.stream(config.getProperty(ORDERS_TOPIC_CONFIG, DEFAULT_ORDERS), Consumed.with(Serdes.String(), Serdes.String()))
            // an order without a customer id (or with a comma in its id) cannot be joined: dropped
            .filter((orderId, order) -> orderId != null && orderId.indexOf(',') < 0 && order != null && order.indexOf(',') > 0)
            // the order id would be lost with the key: keep it in front of the value
            .mapValues((orderId, order) -> orderId + "," + order)
            .selectKey((orderId, order) -> field(order, 1))
            .repartition(Repartitioned.<String, String>as(REPARTITION).withKeySerde(Serdes.String()).withValueSerde(Serdes.String()))
            .leftJoin(customers, (order, customer) -> order + "," + (customer == null ? UNKNOWN_CUSTOMER : customer),
                Joined.with(Serdes.String(), Serdes.String(), Serdes.String()))
            .selectKey((customerId, enriched) -> field(enriched, 0))
            .to(config.getProperty(OUTPUT_TOPIC_CONFIG, DEFAULT_OUTPUT), Produced.with(Serdes.String(), Serdes.String()));
        return builder.build(config);
    }

    /** The {@code index}th comma-separated field (0 or 1: the order id and customer id never hold a comma). */
    private static String field(String value, int index) {
        int comma = value.indexOf(',');
        if (index == 0) {
            return value.substring(0, comma);
        }
        int next = value.indexOf(',', comma + 1);
        return value.substring(comma + 1, next < 0 ? value.length() : next);
    }
}
