#!/usr/bin/env bash
# Builds (once) and starts a real Elasticsearch 8 node on 127.0.0.1:PORT, printing its pid when it
# answers. Elasticsearch refuses to run as root, so it runs as the system user exit137-es with its
# jars copied where that user can read them. Usage: start.sh PORT LOGFILE [HOME]
# With HOME the node keeps its data there, so a node stopped and started again has its documents.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
port=${1:?usage: start.sh PORT LOGFILE}
log=${2:?usage: start.sh PORT LOGFILE [HOME]}
home=${3:-}
# EXIT137_ES_HEAP: the node's heap (the bench gives it more than a test needs)
heap=${EXIT137_ES_HEAP:-512m}
run=/tmp/exit137-es-node
if [ ! -f "$run/.built" ] || [ -n "$(find "$here/pom.xml" "$here/src" -newer "$run/.built" -print -quit)" ]; then
  rm -rf "$run"; mkdir -p "$run/lib"
  rm -rf "$here/target"
  (cd "$here" && mvn -q -B compile dependency:copy-dependencies -DoutputDirectory="$run/lib" >&2)
  cp -r "$here/target/classes" "$run/classes"
  touch "$run/.built"
fi
chmod -R a+rX "$run"
id exit137-es >/dev/null 2>&1 || useradd -r -M -s /usr/sbin/nologin exit137-es
props=(-Des.http.port="$port")
if [ -n "$home" ]; then mkdir -p "$home"; chown exit137-es "$home"; props+=(-Des.home="$home"); fi
runuser -u exit137-es -- java -Xms"$heap" -Xmx"$heap" -XX:+UseG1GC "${props[@]}" -cp "$run/classes:$run/lib/*" exit137.es.NodeRunner > "$log" 2>&1 &
pid=$!
for _ in $(seq 240); do
  if curl -s -o /dev/null "http://127.0.0.1:$port/_cluster/health"; then echo "$pid"; exit 0; fi
  kill -0 "$pid" 2>/dev/null || { echo "es: the node exited; see $log" >&2; tail -20 "$log" >&2; exit 1; }
  sleep 0.5
done
echo "es: no answer on port $port after 120 s; see $log" >&2
kill "$pid" 2>/dev/null || true
exit 1
