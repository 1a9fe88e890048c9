#!/usr/bin/env bash
# Dump segment (.log), offset index (.index) and time index (.timeindex) files, like Kafka's
# kafka-dump-log.sh. Example: bin/weir-dump-log.sh --files /tmp/weir-logs/t-0/00000000000000000000.log --print-data-log
# the tool prints its own output on stdout; client logging goes to stderr, warnings only
export WEIR_LOG_OPTS="${WEIR_LOG_OPTS:--Dorg.slf4j.simpleLogger.defaultLogLevel=warn}"
exec "$(dirname "${BASH_SOURCE[0]}")/weir-run-class.sh" tools io.weir.tools.DumpLogSegments "$@"
