# shellcheck shell=bash
# The Elasticsearch distribution, shared by start-elasticsearch.sh (the suite's node) and
# es-node.sh (disposable, secured and clustered nodes). Sourced after _lib.sh, never run.
#
# The integ-test-zip from Maven Central: no bundled JDK; modules transport-netty4, x-pack-core,
# x-pack-security and apm only; bin/ has elasticsearch-certutil, -keystore, -users.

ES_VERSION=${ES_VERSION:-8.19.9}
ES_OS_USER=ttdn-es
ARTIFACT="org.elasticsearch.distribution.integ-test-zip:elasticsearch:${ES_VERSION}:zip"
M2_REPO="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}/.m2/repository"
ZIP="$M2_REPO/org/elasticsearch/distribution/integ-test-zip/elasticsearch/${ES_VERSION}/elasticsearch-${ES_VERSION}.zip"

# Make sure the OS user and a Java 17+ exist; sets JAVA_HOME_FOR_ES.
es_prepare_user_and_java() {
  is_root || die "this script runs Elasticsearch as OS user $ES_OS_USER and must be run as root"
  if ! id "$ES_OS_USER" >/dev/null 2>&1; then
    # Elasticsearch refuses to run as root; give it a user of its own.
    log "creating OS user $ES_OS_USER"
    useradd --system --no-create-home --shell /usr/sbin/nologin "$ES_OS_USER"
  fi

  # The zip has no JDK inside. Use the machine's `java` (OpenJDK 17 on this machine kind),
  # unless ES_JAVA_HOME says otherwise; install Debian's OpenJDK 17 if there is no Java at all.
  java_major() { "$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -nE 's/^ *java\.specification\.version = ([0-9]+).*/\1/p'; }
  find_java_home() {
    local cand j major
    for cand in "${ES_JAVA_HOME:-}" \
      "$(j=$(command -v java) && dirname "$(dirname "$(readlink -f "$j")")")" \
      "${JAVA_HOME:-}"; do
      [[ -n $cand && -x $cand/bin/java ]] || continue
      major=$(java_major "$cand")
      if [[ $major =~ ^[0-9]+$ ]] && ((major >= 17)); then
        printf '%s\n' "$cand"
        return 0
      fi
    done
    return 1
  }
  JAVA_HOME_FOR_ES=$(find_java_home || true)
  if [[ -z $JAVA_HOME_FOR_ES ]]; then
    apt_install openjdk-17-jre-headless
    JAVA_HOME_FOR_ES=$(find_java_home) || die "no Java 17+ found after installing openjdk-17-jre-headless"
  fi
  log "using Java $(java_major "$JAVA_HOME_FOR_ES") at $JAVA_HOME_FOR_ES"
}

# Make sure the distribution is unpacked in $1; sets ES_HOME ($1/elasticsearch-$ES_VERSION).
# Downloads it through Maven only when it is not in the local Maven repository yet.
es_unpack_distribution() {
  ES_HOME="$1/elasticsearch-${ES_VERSION}"

  # Fetch the distribution through Maven (Maven Central is reachable here; Elastic's own
  # download site is not). Skipped when it is already in the local repository.
  if [[ ! -f $ZIP ]]; then
    have mvn || apt_install maven
    log "fetching $ARTIFACT from Maven Central"
    if ! mvn_out=$(mvn -B -q -Dmaven.repo.local="$M2_REPO" dependency:get \
      -Dartifact="$ARTIFACT" -Dtransitive=false 2>&1 </dev/null); then
      printf '%s\n' "$mvn_out" >&2
      die "mvn dependency:get -Dartifact=$ARTIFACT failed (output above)"
    fi
    [[ -f $ZIP ]] || die "mvn reported success but $ZIP is missing"
  fi

  # Unpack once. Into a temporary directory first, then rename, so an interrupted unzip never
  # leaves a half-complete ES_HOME that later runs would trust.
  if [[ ! -x $ES_HOME/bin/elasticsearch ]]; then
    have unzip || apt_install unzip
    log "unpacking $ZIP"
    tmp_unpack=$(mktemp -d "$(dirname "$ES_HOME")/.unpack.XXXXXX")
    unzip -q "$ZIP" -d "$tmp_unpack" || { rm -rf "$tmp_unpack"; die "unzip $ZIP failed"; }
    rm -rf "$ES_HOME"
    mv "$tmp_unpack/elasticsearch-${ES_VERSION}" "$ES_HOME"
    rm -rf "$tmp_unpack"
  fi
}
