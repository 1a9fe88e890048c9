#!/usr/bin/env bash
# Describe and change topic and broker configs, like Kafka's kafka-configs.sh.
# Example: bin/weir-configs.sh --bootstrap-server 127.0.0.1:9092 --entity-type topics --entity-name t --alter --add-config retention.ms=60000
# the tool prints its own output on stdout; client logging goes to stderr, warnings only
export WEIR_LOG_OPTS="${WEIR_LOG_OPTS:--Dorg.slf4j.simpleLogger.defaultLogLevel=warn}"
exec "$(dirname "${BASH_SOURCE[0]}")/weir-run-class.sh" tools io.weir.tools.ConfigCommand "$@"
