#!/usr/bin/env bash
# List, describe, reset the offsets of, and delete consumer groups, like Kafka's kafka-consumer-groups.sh.
# Example: bin/weir-consumer-groups.sh --bootstrap-server 127.0.0.1:9092 --describe --group my-group
# the tool prints its own output on stdout; client logging goes to stderr, warnings only
export WEIR_LOG_OPTS="${WEIR_LOG_OPTS:--Dorg.slf4j.simpleLogger.defaultLogLevel=warn}"
exec "$(dirname "${BASH_SOURCE[0]}")/weir-run-class.sh" tools io.weir.tools.ConsumerGroupCommand "$@"
