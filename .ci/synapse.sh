#!/usr/bin/env bash
# A throwaway Synapse homeserver for the Matrix bridge tests, on 127.0.0.1:8008 only.
#
#   .ci/synapse.sh start   install (once), configure (once), start (unless running), wait
#                          for /health, write target/synapse/env.sh and print its values
#   .ci/synapse.sh stop    stop the homeserver this script started
#
# Idempotent: a second `start` reuses the virtualenv, the configuration and a running
# homeserver. Ponte is registered as an application service whose URL is the test's own
# listener (http://127.0.0.1:18009/api/bridges/matrix-test/matrix), with fixed test tokens.
set -euo pipefail
cd "$(dirname "$0")/.."

SYNAPSE_VERSION=1.163.2
ROOT="$PWD/target"
VENV="$ROOT/synapse-venv"
DIR="$ROOT/synapse"
URL=http://127.0.0.1:8008
AS_TOKEN=ponte-test-as-token-7c1e0b2f
HS_TOKEN=ponte-test-hs-token-4a9d3e61
SHARED_SECRET=ponte-test-registration-secret-58b2
AS_URL=http://127.0.0.1:18009/api/bridges/matrix-test/matrix

healthy() {
    curl -fsS --max-time 2 "$URL/health" >/dev/null 2>&1
}

stop() {
    if [ -f "$DIR/homeserver.pid" ]; then
        local pid
        pid=$(cat "$DIR/homeserver.pid")
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid"
            for _ in $(seq 1 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.2
            done
        fi
        rm -f "$DIR/homeserver.pid"
    fi
}

start() {
    if ! "$VENV/bin/python" -c "import synapse, sys; sys.exit(synapse.__version__.split()[0] != '$SYNAPSE_VERSION')" 2>/dev/null; then
        echo "installing matrix-synapse==$SYNAPSE_VERSION into $VENV"
        if ! python3 -c "import venv, ensurepip" 2>/dev/null; then
            export DEBIAN_FRONTEND=noninteractive
            apt-get update -qq
            apt-get install -y -qq python3 python3-venv >/dev/null
        fi
        rm -rf "$VENV"
        python3 -m venv "$VENV"
        "$VENV/bin/pip" install -q --disable-pip-version-check "matrix-synapse==$SYNAPSE_VERSION"
    fi

    mkdir -p "$DIR"
    if [ ! -f "$DIR/homeserver.yaml" ]; then
        # Generated once: the signing key, the secrets and the log configuration (which
        # writes to $DIR/homeserver.log). Our settings live in ponte.yaml, loaded after it.
        (cd "$DIR" && "$VENV/bin/python" -m synapse.app.homeserver --server-name localhost \
            --config-path "$DIR/homeserver.yaml" --generate-config --report-stats=no >/dev/null)
    fi

    cat >"$DIR/appservice-ponte.yaml" <<EOF
id: matrix-test
url: "$AS_URL"
as_token: "$AS_TOKEN"
hs_token: "$HS_TOKEN"
sender_localpart: ponte
rate_limited: false
namespaces:
  users:
    - exclusive: true
      regex: "@ponte:localhost"
  aliases:
    - exclusive: true
      regex: "#ponte_.*"
  rooms: []
EOF

    # Later configuration files override earlier ones key by key.
    cat >"$DIR/ponte.yaml" <<EOF
pid_file: "$DIR/homeserver.pid"
listeners:
  - port: 8008
    bind_addresses: ["127.0.0.1"]
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: "$DIR/homeserver.db"
media_store_path: "$DIR/media_store"
registration_shared_secret: "$SHARED_SECRET"
enable_registration: false
trusted_key_servers: []
suppress_key_server_warning: true
federation_domain_whitelist: []
app_service_config_files:
  - "$DIR/appservice-ponte.yaml"
rc_message: {per_second: 1000, burst_count: 1000}
rc_registration: {per_second: 1000, burst_count: 1000}
rc_login:
  address: {per_second: 1000, burst_count: 1000}
  account: {per_second: 1000, burst_count: 1000}
  failed_attempts: {per_second: 1000, burst_count: 1000}
rc_joins:
  local: {per_second: 1000, burst_count: 1000}
  remote: {per_second: 1000, burst_count: 1000}
rc_joins_per_room: {per_second: 1000, burst_count: 1000}
rc_invites:
  per_room: {per_second: 1000, burst_count: 1000}
  per_user: {per_second: 1000, burst_count: 1000}
  per_issuer: {per_second: 1000, burst_count: 1000}
rc_room_creation: {per_second: 1000, burst_count: 1000}
rc_admin_redaction: {per_second: 1000, burst_count: 1000}
EOF

    if ! healthy; then
        stop
        echo "starting Synapse (log: $DIR/homeserver.log)"
        (cd "$DIR" && "$VENV/bin/python" -m synapse.app.homeserver \
            --config-path "$DIR/homeserver.yaml" --config-path "$DIR/ponte.yaml" --daemonize)
        for _ in $(seq 1 300); do
            healthy && break
            sleep 0.2
        done
        if ! healthy; then
            echo "Synapse did not answer $URL/health; the end of its log:" >&2
            tail -n 40 "$DIR/homeserver.log" >&2 || true
            exit 1
        fi
    fi

    cat >"$DIR/env.sh" <<EOF
export PONTE_SYNAPSE_URL=$URL
export PONTE_SYNAPSE_AS_TOKEN=$AS_TOKEN
export PONTE_SYNAPSE_HS_TOKEN=$HS_TOKEN
export PONTE_SYNAPSE_SHARED_SECRET=$SHARED_SECRET
EOF
    echo "Synapse $SYNAPSE_VERSION is up:"
    cat "$DIR/env.sh"
}

case "${1:-start}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 [start|stop]" >&2; exit 2 ;;
esac
