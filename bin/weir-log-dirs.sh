#!/usr/bin/env bash
# Describe the log directories of brokers, like Kafka's kafka-log-dirs.sh.
# Example: bin/weir-log-dirs.sh --bootstrap-server 127.0.0.1:9092 --describe --topic-list t
# the tool prints its own output on stdout; client logging goes to stderr, warnings only
export WEIR_LOG_OPTS="${WEIR_LOG_OPTS:--Dorg.slf4j.simpleLogger.defaultLogLevel=warn}"
exec "$(dirname "${BASH_SOURCE[0]}")/weir-run-class.sh" tools io.weir.tools.LogDirsCommand "$@"
