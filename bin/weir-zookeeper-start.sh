#!/usr/bin/env bash
# Starts a ZooKeeper server for a Weir cluster: ZooKeeper's own QuorumPeerMain, which runs a standalone
# server, or a member of an ensemble when the config lists server.N entries.
# Usage: bin/weir-zookeeper-start.sh config/zookeeper.properties
if [ $# -ne 1 ]; then
  echo "USAGE: $0 zookeeper.properties" >&2
  exit 1
fi
export WEIR_HEAP_OPTS="${WEIR_HEAP_OPTS:--Xmx512M -Xms512M}"
exec "$(dirname "${BASH_SOURCE[0]}")/weir-run-class.sh" broker org.apache.zookeeper.server.quorum.QuorumPeerMain "$1"
