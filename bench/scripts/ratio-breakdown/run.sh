#!/bin/sh
# Runs RatioBreakdown against this checkout's codec classes (build first: mvn -o -q -B package -DskipTests).
here=$(cd "$(dirname "$0")/../../.." && pwd)
exec java -cp "$here/codec/target/classes:$(ls "$here"/fs/target/lib/*.jar | grep -v excpfs- | paste -sd:)" \
  "$here/bench/scripts/ratio-breakdown/RatioBreakdown.java" "$@"
