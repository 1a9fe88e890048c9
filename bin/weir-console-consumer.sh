#!/usr/bin/env bash
# Print the records of a topic, like Kafka's kafka-console-consumer.sh.
# Example: bin/weir-console-consumer.sh --bootstrap-server 127.0.0.1:9092 --topic t --from-beginning --property print.key=true
exec "$(dirname "${BASH_SOURCE[0]}")/weir-run-class.sh" tools io.weir.tools.ConsoleConsumer "$@"
