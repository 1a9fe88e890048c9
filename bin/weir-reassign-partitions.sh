#!/usr/bin/env bash
# Move partitions between brokers (and follow or cancel the moves), like Kafka's kafka-reassign-partitions.sh.
# Example: bin/weir-reassign-partitions.sh --bootstrap-server 127.0.0.1:9092 --reassignment-json-file moves.json --execute
# the tool prints its own output on stdout; client logging goes to stderr, warnings only
export WEIR_LOG_OPTS="${WEIR_LOG_OPTS:--Dorg.slf4j.simpleLogger.defaultLogLevel=warn}"
exec "$(dirname "${BASH_SOURCE[0]}")/weir-run-class.sh" tools io.weir.tools.ReassignPartitionsCommand "$@"
