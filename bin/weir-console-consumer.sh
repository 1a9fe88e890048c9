#!/usr/bin/env bash
# Print the records of a topic, like Kafka's kafka-console-consumer.sh.
# Example: bin/weir-console-consumer.sh --bootstrap-server 127.0.0.1:9092 --topic t --from-beginning --property print.key=true
# the tool prints its own output on stdout; client logging goes to stderr, warnings only
export WEIR_LOG_OPTS="${WEIR_LOG_OPTS:--Dorg.slf4j.simpleLogger.defaultLogLevel=warn}"
exec "$(dirname "${BASH_SOURCE[0]}")/weir-run-class.sh" tools io.weir.tools.ConsoleConsumer "$@"
