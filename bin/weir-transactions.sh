#!/usr/bin/env bash
# List and describe transactions, describe a partition's producers, find and abort hanging transactions,
# force-terminate a transactional id, like Kafka's kafka-transactions.sh.
# Example: bin/weir-transactions.sh --bootstrap-server 127.0.0.1:9092 find-hanging --topic t
# the tool prints its own output on stdout; client logging goes to stderr, warnings only
export WEIR_LOG_OPTS="${WEIR_LOG_OPTS:--Dorg.slf4j.simpleLogger.defaultLogLevel=warn}"
exec "$(dirname "${BASH_SOURCE[0]}")/weir-run-class.sh" tools io.weir.tools.TransactionsCommand "$@"
