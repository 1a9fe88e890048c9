#!/usr/bin/env bash
# Delete the records of partitions below given offsets, like Kafka's kafka-delete-records.sh.
# Example: bin/weir-delete-records.sh --bootstrap-server 127.0.0.1:9092 --offset-json-file offsets.json
# the tool prints its own output on stdout; client logging goes to stderr, warnings only
export WEIR_LOG_OPTS="${WEIR_LOG_OPTS:--Dorg.slf4j.simpleLogger.defaultLogLevel=warn}"
exec "$(dirname "${BASH_SOURCE[0]}")/weir-run-class.sh" tools io.weir.tools.DeleteRecordsCommand "$@"
