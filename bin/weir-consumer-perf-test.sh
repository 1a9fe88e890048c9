#!/usr/bin/env bash
# Consumer load tool with Apache Kafka's kafka-consumer-perf-test flags and output columns; --client kafka|weir;
# assign() of every partition from the beginning, or subscribe() with --group G.
# Example: bin/weir-consumer-perf-test.sh --bootstrap-server 127.0.0.1:9092 --topic t --messages 1000000
export WEIR_HEAP_OPTS="${WEIR_HEAP_OPTS:--Xmx1G}"
exec "$(dirname "${BASH_SOURCE[0]}")/weir-run-class.sh" bench io.weir.bench.ConsumerPerformance "$@"
