#!/usr/bin/env bash
# Runs the bench module's JMH benchmarks. Usage: bin/weir-jmh.sh [pattern] [JMH options...]
# Example: bin/weir-jmh.sh RecordBatchBenchmark -p codec=lz4,none -f 1 -wi 2 -i 3
exec "$(dirname "${BASH_SOURCE[0]}")/weir-run-class.sh" bench org.openjdk.jmh.Main "$@"
