#!/usr/bin/env bash
# Send lines from stdin as records, like Kafka's kafka-console-producer.sh.
# Example: bin/weir-console-producer.sh --bootstrap-server 127.0.0.1:9092 --topic t --property parse.key=true --property key.separator=:
exec "$(dirname "${BASH_SOURCE[0]}")/weir-run-class.sh" tools io.weir.tools.ConsoleProducer "$@"
