#!/usr/bin/env bash
# Side-by-side benchmark: a fresh Weir broker and a fresh Apache Kafka broker (KRaft, jars from Maven
# Central, resolved on first use), each scenario run against both, A B / B A, --rounds times; writes
# bench/results/<scenario>-<timestamp>.md and PNG charts. Scenarios with cluster.size=3 (rf3-*) run against
# three Weir brokers on a ZooKeeper the bench starts and a three-node Kafka KRaft cluster instead.
# Usage: bin/weir-bench.sh [--rounds N] [--clients kafka,weir] [--brokers weir,kafka] [--set key=value] [scenario ...]
# Profiling: WEIR_OPTS / KAFKA_OPTS go to the Weir / Kafka broker only, e.g.
#   WEIR_OPTS=-XX:StartFlightRecording=duration=60s,filename=/tmp/weir.jfr bin/weir-bench.sh p6-100b-acks1
set -euo pipefail
WEIR_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$WEIR_HOME"

kcp="$WEIR_HOME/bench/target/kafka-broker-classpath.txt"
if [ ! -s "$kcp" ] || [ bench/kafka-broker/pom.xml -nt "$kcp" ] || [ pom.xml -nt "$kcp" ]; then
  echo "Resolving the Apache Kafka broker (bench/kafka-broker/pom.xml)..." >&2
  mkdir -p "$(dirname "$kcp")"
  mvn -B -q -f bench/kafka-broker/pom.xml dependency:build-classpath \
      -Dmdep.outputFile="$kcp" -DincludeScope=runtime >&2
fi

# Apache Kafka Streams (streams scenarios on the kafka broker): its own classpath, with its own rocksdbjni
kscp="$WEIR_HOME/bench/target/kafka-streams-classpath.txt"
if [ ! -s "$kscp" ] || [ bench/kafka-streams/pom.xml -nt "$kscp" ] || [ pom.xml -nt "$kscp" ]; then
  echo "Resolving Apache Kafka Streams (bench/kafka-streams/pom.xml)..." >&2
  mvn -B -q -f bench/kafka-streams/pom.xml dependency:build-classpath \
      -Dmdep.outputFile="$kscp" -DincludeScope=runtime >&2
fi

# Build the broker's classpath now (its start script builds when sources changed), not while a broker
# start is being waited for. With no arguments WeirServer only prints its usage.
"$WEIR_HOME/bin/weir-run-class.sh" broker io.weir.broker.WeirServer >/dev/null 2>&1 || true

export WEIR_BROKER_OPTS="${WEIR_OPTS:-}"
export WEIR_OPTS="-Djava.awt.headless=true -Dorg.slf4j.simpleLogger.log.org.apache.kafka.clients.NetworkClient=error"
export WEIR_HEAP_OPTS="${WEIR_BENCH_HEAP_OPTS:--Xmx512m}"
exec "$WEIR_HOME/bin/weir-run-class.sh" bench io.weir.bench.sidebyside.SideBySide \
  --weir-home "$WEIR_HOME" --kafka-classpath-file "$kcp" \
  --kafka-streams-classpath-file "$kscp" --command "bin/weir-bench.sh $*" "$@"
