#!/usr/bin/env bash
# List, describe, reset the offsets of, and delete consumer groups, like Kafka's kafka-consumer-groups.sh.
# Example: bin/weir-consumer-groups.sh --bootstrap-server 127.0.0.1:9092 --describe --group my-group
exec "$(dirname "${BASH_SOURCE[0]}")/weir-run-class.sh" tools io.weir.tools.ConsumerGroupCommand "$@"
