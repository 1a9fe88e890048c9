#!/usr/bin/env bash
# Elect preferred (or unclean) partition leaders, like Kafka's kafka-leader-election.sh.
# Example: bin/weir-leader-election.sh --bootstrap-server 127.0.0.1:9092 --election-type preferred --all-topic-partitions
# the tool prints its own output on stdout; client logging goes to stderr, warnings only
export WEIR_LOG_OPTS="${WEIR_LOG_OPTS:--Dorg.slf4j.simpleLogger.defaultLogLevel=warn}"
exec "$(dirname "${BASH_SOURCE[0]}")/weir-run-class.sh" tools io.weir.tools.LeaderElectionCommand "$@"
