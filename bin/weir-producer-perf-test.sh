#!/usr/bin/env bash
# Producer load generator with Apache Kafka's kafka-producer-perf-test flags and output.
# Example: bin/weir-producer-perf-test.sh --topic t --num-records 1000000 --record-size 100 --throughput -1 \
#            --producer-props bootstrap.servers=127.0.0.1:9092 acks=1 enable.idempotence=false [--client kafka|weir]
# In transactions: add --transactional-id ID --transaction-duration-ms 100 (the last line counts the commits).
export WEIR_HEAP_OPTS="${WEIR_HEAP_OPTS:--Xmx1G}"
exec "$(dirname "${BASH_SOURCE[0]}")/weir-run-class.sh" bench io.weir.bench.ProducerPerformance "$@"
