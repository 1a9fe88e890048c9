#!/usr/bin/env bash
# Starts a Weir broker. Usage: bin/weir-server-start.sh config/server.properties [--override key=value ...]
# On a fresh clone it first builds what it needs (quietly, with Maven).
# Heap: WEIR_HEAP_OPTS (as Kafka's KAFKA_HEAP_OPTS), default -Xmx512m -Xms128m. The broker keeps ~10 MB live
# under load (fetches are zero-copy, nothing is allocated per record); the ceiling leaves room for
# queued.max.request.bytes (100 MB) of requests, and the small start lets G1 grow the heap only if it must,
# so RSS follows what the broker uses (bench/README.md, "Default heap").
if [ $# -lt 1 ]; then
  echo "USAGE: $0 server.properties [--override property=value]*" >&2
  exit 1
fi
export WEIR_HEAP_OPTS="${WEIR_HEAP_OPTS:--Xmx512m -Xms128m}"
exec "$(dirname "${BASH_SOURCE[0]}")/weir-run-class.sh" broker io.weir.broker.WeirServer "$@"
