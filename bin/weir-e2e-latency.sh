#!/usr/bin/env bash
# End-to-end latency at a fixed produce rate (HdrHistogram percentiles).
# Example: bin/weir-e2e-latency.sh --bootstrap-server 127.0.0.1:9092 --topic t --num-records 60000 \
#            --throughput 2000 --producer-props acks=1 enable.idempotence=false
export WEIR_HEAP_OPTS="${WEIR_HEAP_OPTS:--Xmx1G}"
exec "$(dirname "${BASH_SOURCE[0]}")/weir-run-class.sh" bench io.weir.bench.EndToEndLatency "$@"
