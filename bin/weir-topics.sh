#!/usr/bin/env bash
# Create, list, describe, alter and delete topics, like Kafka's kafka-topics.sh.
# Example: bin/weir-topics.sh --bootstrap-server 127.0.0.1:9092 --create --topic t --partitions 3
exec "$(dirname "${BASH_SOURCE[0]}")/weir-run-class.sh" tools io.weir.tools.TopicCommand "$@"
