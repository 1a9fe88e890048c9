#!/usr/bin/env bash
# Starts a Weir broker. Usage: bin/weir-server-start.sh config/server.properties [--override key=value ...]
# On a fresh clone it first builds what it needs (quietly, with Maven).
if [ $# -lt 1 ]; then
  echo "USAGE: $0 server.properties [--override property=value]*" >&2
  exit 1
fi
export WEIR_HEAP_OPTS="${WEIR_HEAP_OPTS:--Xmx1G -Xms1G}"
exec "$(dirname "${BASH_SOURCE[0]}")/weir-run-class.sh" broker io.weir.broker.WeirServer "$@"
