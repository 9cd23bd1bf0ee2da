#!/bin/sh
# Runs a bench main class (or JMH: org.openjdk.jmh.Main) against this checkout's codec classes, not whatever
# excpfs-codec snapshot sits in ~/.m2. Build first: mvn -q -o -pl codec,bench package -DskipTests
# Usage: bench/scripts/run.sh [-Xmx8g ...] CLASS ARGS...
here=$(cd "$(dirname "$0")/../.." && pwd)
deps=$(tr ':' '\n' < "$here/bench/target/classpath.txt" | grep -v 'excpfs-codec' | paste -sd: -)
jvm=""
while [ "${1#-}" != "$1" ]; do jvm="$jvm $1"; shift; done
# CODEC_CLASSES may point at a frozen copy (a jar or directory) so that rebuilding during a long JMH run is harmless
exec java $jvm -cp "$here/bench/target/classes:${CODEC_CLASSES:-$here/codec/target/classes}:$deps" "$@"
