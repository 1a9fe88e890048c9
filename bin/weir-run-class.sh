#!/usr/bin/env bash
# Runs a main class of a Weir module, building the module (quietly, with Maven) first when the
# sources are newer than the last build. Usage: weir-run-class.sh <module> <main-class> [args...]
set -euo pipefail
WEIR_HOME="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ $# -lt 2 ]; then
  echo "usage: $(basename "$0") <module> <main-class> [args...]" >&2
  exit 2
fi
module="$1"; shift
main="$1"; shift
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"

# An unpacked distribution (weir-<version>.tgz) carries every runtime jar in libs/: no build, no Maven.
if [ -d "$WEIR_HOME/libs" ]; then
  exec "$JAVA" ${WEIR_HEAP_OPTS:-} ${WEIR_LOG_OPTS:-} ${WEIR_OPTS:-} -cp "$WEIR_HOME/libs/*" "$main" "$@"
fi

# A source tree: build the module when its sources are newer than the last build. The classpath holds
# exactly the runtime dependencies (never test-scope jars), so a script fails here first if a class
# only works because a test jar happens to be present.
stamp="$WEIR_HOME/$module/target/weir-runtime-classpath.txt"
needs_build=0
if [ ! -f "$stamp" ]; then
  needs_build=1
elif [ -n "$(find "$WEIR_HOME" -path "$WEIR_HOME/.git" -prune -o \( -name '*.java' -o -name 'pom.xml' -o -path '*/src/main/resources/*' \) -newer "$stamp" -print -quit 2>/dev/null)" ]; then
  needs_build=1
fi
if [ "$needs_build" = 1 ]; then
  echo "Building Weir ($module)..." >&2
  log="$(mktemp)"
  if ! (cd "$WEIR_HOME" && mvn -B -q -DskipTests -pl "$module" -am package \
        dependency:build-classpath -Dmdep.outputFile="$stamp.tmp" -DincludeScope=runtime) >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "Build failed." >&2
    exit 1
  fi
  rm -f "$log"
  # the reactor's own modules resolve to their target/classes; make the list absolute and complete
  cp="$WEIR_HOME/$module/target/classes:$(cat "$stamp.tmp")"
  echo "$cp" > "$stamp"
  rm -f "$stamp.tmp"
fi

exec "$JAVA" ${WEIR_HEAP_OPTS:-} ${WEIR_LOG_OPTS:-} ${WEIR_OPTS:-} -cp "$(cat "$stamp")" "$main" "$@"
