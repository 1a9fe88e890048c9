#!/usr/bin/env bash
# Runs a stream job against a Weir (or any Kafka-protocol) cluster.
# Usage: bin/weir-streams-run.sh --class com.example.Job [--config job.properties] [--jar job.jar]
#                                [--property key=value]... [-- job args]
# The class implements io.weir.streams.StreamsJob (Topology topology(Properties config)): the runner starts
# a WeirStreams on that topology with the config (application.id, bootstrap.servers, state.dir, ...) and
# stops it cleanly on SIGTERM / Ctrl-C. A class with a main(String[]) instead is called with the job args.
# --jar adds the job's jar (repeatable); WEIR_OPTS / WEIR_HEAP_OPTS pass JVM options.
exec "$(dirname "${BASH_SOURCE[0]}")/weir-run-class.sh" streams io.weir.streams.StreamsJobRunner "$@"
