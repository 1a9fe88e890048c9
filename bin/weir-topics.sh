#!/usr/bin/env bash
# Create, list, describe, alter and delete topics, like Kafka's kafka-topics.sh.
# Example: bin/weir-topics.sh --bootstrap-server 127.0.0.1:9092 --create --topic t --partitions 3
# the tool prints its own output on stdout; client logging goes to stderr, warnings only
export WEIR_LOG_OPTS="${WEIR_LOG_OPTS:--Dorg.slf4j.simpleLogger.defaultLogLevel=warn}"
exec "$(dirname "${BASH_SOURCE[0]}")/weir-run-class.sh" tools io.weir.tools.TopicCommand "$@"
