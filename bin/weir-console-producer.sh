#!/usr/bin/env bash
# Send lines from stdin as records, like Kafka's kafka-console-producer.sh.
# Example: bin/weir-console-producer.sh --bootstrap-server 127.0.0.1:9092 --topic t --property parse.key=true --property key.separator=:
# the tool prints its own output on stdout; client logging goes to stderr, warnings only
export WEIR_LOG_OPTS="${WEIR_LOG_OPTS:--Dorg.slf4j.simpleLogger.defaultLogLevel=warn}"
exec "$(dirname "${BASH_SOURCE[0]}")/weir-run-class.sh" tools io.weir.tools.ConsoleProducer "$@"
