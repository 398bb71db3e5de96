#!/usr/bin/env bash
# Extra Elasticsearch nodes for fault tests and deployment checks, each with a name of its own:
#
#   scripts/es-node.sh start NAME --port 24200 [--fresh] [--heap 256m]
#   scripts/es-node.sh start NAME --port 24210 --secure [--key-indices ttdn-materials]
#   scripts/es-node.sh start c1 --port 24220 --cluster c1:24220,c2:24221   # first one: master
#   scripts/es-node.sh start c2 --port 24221 --cluster c1:24220,c2:24221   # the others: data only
#   scripts/es-node.sh stop NAME          (SIGTERM, then SIGKILL after 60 s)
#   scripts/es-node.sh pid NAME           (the node's java process id)
#
# start prints the node's URL as the last line of stdout, once it answers. Files live under
# .cache/es-node-NAME (config, data, logs); the data survives a stop, so a node restarted
# without --fresh finds its indices again. The transport port is the HTTP port + 100.
#
# --secure: TLS on HTTP and transport with a CA made here by elasticsearch-certutil, the
# `elastic` user's password set through the keystore's bootstrap.password, and a user
# `ttdn-hub` (file realm) for the service with only the privileges README.md lists, on the
# indices KEY-INDICES and KEY-INDICES-*, and an API key with the same role (made through a
# test-only analysis plugin, see secure_home). Everything a client needs is written (mode 600)
# to .cache/es-node-NAME/service.env: ELASTICSEARCH_URL, ELASTICSEARCH_API_KEY,
# ELASTICSEARCH_USERNAME, ELASTICSEARCH_PASSWORD, ELASTICSEARCH_CA_CERTS and, for operators and
# tests, ELASTIC_PASSWORD.
#
# The same distribution as start-elasticsearch.sh (the integ-test-zip), run as its OS user.
set -euo pipefail
LOG_TAG=es-node
# shellcheck source=scripts/_lib.sh
. "$(dirname "$0")/_lib.sh"
# shellcheck source=scripts/_es.sh
. "$(dirname "$0")/_es.sh"

usage() { die "usage: es-node.sh start NAME --port N [--secure] [--fresh] [--heap SIZE] [--cluster N1:P1,N2:P2] | stop NAME | pid NAME"; }

[[ $# -ge 2 ]] || usage
ACTION=$1 NAME=$2
shift 2
[[ $NAME =~ ^[a-z0-9-]+$ ]] || die "node name must be lower-case letters, digits and dashes"
PORT="" SECURE=0 FRESH=0 HEAP=256m CLUSTER="" KEY_INDICES=ttdn-materials
TIMEOUT=${ES_START_TIMEOUT:-180}
while [[ $# -gt 0 ]]; do
  case $1 in
    --port) PORT=$2; shift 2 ;;
    --secure) SECURE=1; shift ;;
    --fresh) FRESH=1; shift ;;
    --heap) HEAP=$2; shift 2 ;;
    --cluster) CLUSTER=$2; shift 2 ;;
    --key-indices) KEY_INDICES=$2; shift 2 ;;
    *) usage ;;
  esac
done

NODE_ROOT="$CACHE/es-node-$NAME"
PID_FILE="$NODE_ROOT/elasticsearch.pid"

node_pid() {
  local pid
  pid=$(cat "$PID_FILE" 2>/dev/null || true)
  # Only a live Elasticsearch counts: pids get reused.
  if [[ -n $pid ]] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'org.elasticsearch'; then
    printf '%s\n' "$pid"
  fi
}

stop_node() {
  local pid i
  pid=$(node_pid)
  if [[ -z $pid ]]; then
    log "$NAME: not running"
    rm -f "$PID_FILE"
    return 0
  fi
  log "$NAME: stopping (pid $pid)"
  kill -CONT "$pid" 2>/dev/null || true # a node a test paused with SIGSTOP must hear the TERM
  kill -TERM "$pid"
  for ((i = 0; i < 60; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$NAME: still running after 60 s; sending SIGKILL"
    kill -KILL "$pid" || true
  fi
  rm -f "$PID_FILE"
}

case $ACTION in
  stop) take_lock "es-node-$NAME"; stop_node; exit 0 ;;
  pid) node_pid; exit 0 ;;
  start) ;;
  *) usage ;;
esac
[[ $PORT =~ ^[0-9]+$ ]] || usage
take_lock "es-node-$NAME"
SCHEME=http
[[ $SECURE -eq 1 ]] && SCHEME=https
URL="$SCHEME://127.0.0.1:$PORT"
if [[ -n $(node_pid) ]]; then
  # Left over from a run that did not finish (a killed test session): start from a clean stop.
  log "$NAME is already running (pid $(node_pid)); stopping it first"
  stop_node
fi

es_prepare_user_and_java
es_unpack_distribution "$CACHE"
if [[ $FRESH -eq 1 ]]; then
  rm -rf "$NODE_ROOT"
fi
mkdir -p "$NODE_ROOT"/{data,logs,tmp}
CONF="$NODE_ROOT/config"

# The secured node runs from a home of its own: hard links to the distribution, plus the
# test-only plugin in scripts/es-security-analysis (the three analysis components the .security
# index needs, which this distribution lacks), so that it can make API keys. The plugin is
# compiled here against the distribution's own jars: nothing is downloaded for it.
secure_home() {
  local home="$NODE_ROOT/home" src="$REPO/scripts/es-security-analysis" plugin jar build javac_bin
  plugin="$home/plugins/ttdn-security-analysis"
  jar="$plugin/ttdn-security-analysis.jar"
  if [[ ! -x $home/bin/elasticsearch ]]; then
    rm -rf "$home"
    cp -al "$ES_HOME" "$home"
  fi
  if [[ ! -s $jar || $src/SecurityIndexAnalysis.java -nt $jar ]]; then
    javac_bin="$JAVA_HOME_FOR_ES/bin/javac"
    if [[ ! -x $javac_bin ]]; then
      have javac || apt_install openjdk-17-jdk-headless
      javac_bin=$(command -v javac)
    fi
    build=$(mktemp -d)
    "$javac_bin" --release 17 -cp "$ES_HOME/lib/*" -d "$build/classes" "$src/SecurityIndexAnalysis.java" >&2 ||
      { rm -rf "$build"; die "$NAME: compiling $src/SecurityIndexAnalysis.java failed"; }
    mkdir -p "$plugin"
    (cd "$build/classes" && "$(dirname "$javac_bin")/jar" cf "$jar" .)
    rm -rf "$build"
    sed "s/@ES_VERSION@/$ES_VERSION/" "$src/plugin-descriptor.properties" >"$plugin/plugin-descriptor.properties"
  fi
  ES_HOME=$home
}
if [[ $SECURE -eq 1 ]]; then secure_home; fi
# A config directory of its own (jvm.options, log4j2, keystore, certificates), from the
# distribution's, the first time.
if [[ ! -f $CONF/jvm.options ]]; then
  rm -rf "$CONF"
  cp -r "$ES_HOME/config" "$CONF"
  rm -f "$CONF/elasticsearch.keystore"
fi

discovery_settings() {
  if [[ -z $CLUSTER ]]; then
    printf 'discovery.type: single-node\n'
    return
  fi
  local first seeds="" member name port
  first=${CLUSTER%%,*}
  for member in ${CLUSTER//,/ }; do
    port=${member#*:}
    seeds+="\"127.0.0.1:$((port + 100))\", "
  done
  printf 'discovery.seed_hosts: [%s]\n' "${seeds%, }"
  name=${first%%:*}
  if [[ $name == "$NAME" ]]; then
    # The first member is the only master-eligible node: the others can stop and come back
    # without the cluster losing its master (two master-eligible nodes cannot outvote each other).
    printf 'cluster.initial_master_nodes: ["%s"]\n' "$NAME"
  else
    printf 'node.roles: [data]\n'
  fi
}

CLUSTER_NAME="ttdn-$NAME"
[[ -n $CLUSTER ]] && CLUSTER_NAME="ttdn-${CLUSTER%%:*}"
{
  printf '# Generated by scripts/es-node.sh on each start; edits here are lost.\n'
  printf 'cluster.name: %s\nnode.name: %s\nnetwork.host: 127.0.0.1\n' "$CLUSTER_NAME" "$NAME"
  printf 'http.port: %s\ntransport.port: %s\n' "$PORT" "$((PORT + 100))"
  printf 'path.data: %s\npath.logs: %s\n' "$NODE_ROOT/data" "$NODE_ROOT/logs"
  discovery_settings
  printf 'cluster.routing.allocation.disk.threshold_enabled: false\n'
  printf 'action.destructive_requires_name: false\n'
  if [[ $SECURE -eq 1 ]]; then
    cat <<'EOF'
xpack.security.enabled: true
xpack.security.http.ssl.enabled: true
xpack.security.http.ssl.key: certs/node/node.key
xpack.security.http.ssl.certificate: certs/node/node.crt
xpack.security.http.ssl.certificate_authorities: [certs/ca/ca.crt]
xpack.security.transport.ssl.enabled: true
xpack.security.transport.ssl.verification_mode: certificate
xpack.security.transport.ssl.key: certs/node/node.key
xpack.security.transport.ssl.certificate: certs/node/node.crt
xpack.security.transport.ssl.certificate_authorities: [certs/ca/ca.crt]
EOF
  else
    printf 'xpack.security.enabled: false\n'
  fi
} >"$CONF/elasticsearch.yml"

# Run an Elasticsearch tool or the server as the node's OS user, in a clean environment.
as_es() {
  (cd "$NODE_ROOT/logs" && runuser -u "$ES_OS_USER" -- env -i \
    PATH=/usr/local/bin:/usr/bin:/bin HOME="$NODE_ROOT" LANG=C.UTF-8 \
    ES_JAVA_HOME="$JAVA_HOME_FOR_ES" ES_JAVA_OPTS="-Xms$HEAP -Xmx$HEAP" \
    ES_TMPDIR="$NODE_ROOT/tmp" ES_PATH_CONF="$CONF" "$@")
}

# The role the service needs (JSON, which is also YAML for roles.yml).
role_json() {
  printf '{"cluster":["monitor"],"indices":[{"names":["%s","%s-*"],"privileges":["manage","read","write"]}]}' \
    "$KEY_INDICES" "$KEY_INDICES"
}

ELASTIC_PASSWORD="" SERVICE_PASSWORD=""
if [[ $SECURE -eq 1 ]]; then
  have unzip || apt_install unzip
  # A new CA and node certificate on every start (a test of a fresh deployment each time).
  rm -rf "$CONF/certs" && mkdir -p "$CONF/certs"
  chown -R "$ES_OS_USER:" "$NODE_ROOT"
  as_es "$ES_HOME/bin/elasticsearch-certutil" ca --pem --silent --out "$CONF/certs/ca.zip" >&2
  unzip -q -o "$CONF/certs/ca.zip" -d "$CONF/certs"
  chown -R "$ES_OS_USER:" "$CONF/certs"
  as_es "$ES_HOME/bin/elasticsearch-certutil" cert --pem --silent --name node \
    --ca-cert "$CONF/certs/ca/ca.crt" --ca-key "$CONF/certs/ca/ca.key" \
    --ip 127.0.0.1 --dns localhost --out "$CONF/certs/node.zip" >&2
  unzip -q -o "$CONF/certs/node.zip" -d "$CONF/certs"
  # The elastic user's password: kept with the node (a restart keeps the same one).
  if [[ ! -s $NODE_ROOT/elastic.password ]]; then
    (umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=' >"$NODE_ROOT/elastic.password")
  fi
  ELASTIC_PASSWORD=$(cat "$NODE_ROOT/elastic.password")
  chown -R "$ES_OS_USER:" "$NODE_ROOT"
  if [[ ! -f $CONF/elasticsearch.keystore ]]; then
    as_es "$ES_HOME/bin/elasticsearch-keystore" create >&2
  fi
  printf '%s' "$ELASTIC_PASSWORD" | as_es "$ES_HOME/bin/elasticsearch-keystore" add -x -f bootstrap.password >&2
  # The service's own user (file realm) with only the role it needs: cluster health to
  # report, and on its own alias and indices what `ttdn` does (create, fill, search, refresh,
  # settings, alias swap, delete). README.md lists the same privileges.
  SERVICE_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
  printf 'ttdn_hub: %s\n' "$(role_json)" >"$CONF/roles.yml"
  as_es "$ES_HOME/bin/elasticsearch-users" userdel ttdn-hub >/dev/null 2>&1 || true
  as_es "$ES_HOME/bin/elasticsearch-users" useradd ttdn-hub -p "$SERVICE_PASSWORD" -r ttdn_hub >&2
  rm -f "$CONF/certs/ca.zip" "$CONF/certs/node.zip"
fi
chown -R "$ES_OS_USER:" "$NODE_ROOT"
rm -f "$PID_FILE"

log "$NAME: starting Elasticsearch $ES_VERSION on $URL (heap $HEAP, logs $NODE_ROOT/logs)"
(as_es setsid "$ES_HOME/bin/elasticsearch" -d -p "$PID_FILE") >"$NODE_ROOT/logs/launcher.out" 2>&1 </dev/null 9>&- ||
  {
    tail -n 40 "$NODE_ROOT/logs/launcher.out" >&2
    die "$NAME: the launcher failed (output above)"
  }

curl_es() {
  if [[ $SECURE -eq 1 ]]; then
    curl -sS --max-time 10 --cacert "$CONF/certs/ca/ca.crt" -u "elastic:$ELASTIC_PASSWORD" "$@"
  else
    curl -sS --max-time 10 "$@"
  fi
}

deadline=$((SECONDS + TIMEOUT))
until curl_es -f -o /dev/null "$URL/_cluster/health?wait_for_status=yellow&timeout=5s" 2>/dev/null; do
  if ((SECONDS >= deadline)) || [[ -z $(node_pid) ]]; then
    tail -n 40 "$NODE_ROOT/logs/$CLUSTER_NAME.log" >&2 2>/dev/null || true
    stop_node
    die "$NAME: did not become healthy within $TIMEOUT s (log above)"
  fi
  sleep 2
done

if [[ $SECURE -eq 1 ]]; then
  # The service's API key, with the same role as its user. The .security index that holds it
  # needs the analysis components of the plugin set up by secure_home above.
  answer=$(curl_es -X POST -H 'Content-Type: application/json' "$URL/_security/api_key" \
    -d "{\"name\":\"ttdn-hub\",\"role_descriptors\":{\"ttdn_hub\":$(role_json)}}" 2>&1 || true)
  key=$(printf '%s' "$answer" | sed -nE 's/.*"encoded" *: *"([^"]+)".*/\1/p')
  if [[ -z $key ]]; then
    log "$NAME: creating the service's API key failed: $answer"
    stop_node
    die "$NAME: no API key for the service"
  fi
  (
    umask 077
    {
      printf 'ELASTICSEARCH_URL=%s\n' "$URL"
      printf 'ELASTICSEARCH_API_KEY=%s\n' "$key"
      printf 'ELASTICSEARCH_USERNAME=ttdn-hub\n'
      printf 'ELASTICSEARCH_PASSWORD=%s\n' "$SERVICE_PASSWORD"
      printf 'ELASTICSEARCH_CA_CERTS=%s\n' "$CONF/certs/ca/ca.crt"
      printf 'ELASTIC_PASSWORD=%s\n' "$ELASTIC_PASSWORD"
    } >"$NODE_ROOT/service.env"
  )
  log "$NAME: credentials and CA for the service in $NODE_ROOT/service.env"
fi
log "$NAME: ready (pid $(node_pid))"
printf '%s\n' "$URL"
