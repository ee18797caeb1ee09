#!/usr/bin/env bash
# Brings up (or down) the development stack that the tests, the README and the benchmarks share,
# on a machine that may have nothing: Docker engine, arm64 emulation, two OCI registries (open and
# htpasswd-protected), the moto AWS emulator, and the offline Lambda Python base images.
# Idempotent: every step checks before it acts, so a second `up` only verifies.
#
#   scripts/stack.sh up        install + start everything, print the env to use
#   scripts/stack.sh services  the same without compiling faas or building base images
#   scripts/stack.sh env       print the env lines (source-able) without starting anything
#   scripts/stack.sh down      stop what `up` started (containers of the engine are left alone)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
state=${FAAS_STACK_DIR:-/var/lib/faas-stack}
registry_port=${FAAS_REGISTRY_PORT:-5000}
auth_registry_port=${FAAS_AUTH_REGISTRY_PORT:-5001}
moto_port=${FAAS_MOTO_PORT:-5050}
venv="$state/venv"

log() { printf '[stack] %s\n' "$*" >&2; }

print_env() {
  cat <<EOF
export DOCKER_HOST=unix:///var/run/docker.sock
export FAAS_TEST_REGISTRY=127.0.0.1:$registry_port
export FAAS_TEST_AUTH_REGISTRY=127.0.0.1:$auth_registry_port
export FAAS_TEST_AUTH_FILE=$state/auth-registry.credentials
export FAAS_TEST_AWS_ENDPOINT=http://127.0.0.1:$moto_port
export FAAS_STACK_DIR=$state
EOF
}

# Waits for a command to succeed, polling; used only for services we just started.
wait_for() {
  local what=$1; shift
  for _ in $(seq 1 120); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  log "$what did not come up; see $state/*.log"
  return 1
}

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

engine_up() {
  apt_install docker.io containerd runc iptables
  if /usr/bin/docker -H unix:///var/run/docker.sock info >/dev/null 2>&1; then return 0; fi
  log "starting dockerd"
  mkdir -p "$state"
  # No systemd here: start the daemon by hand, detached from this shell's session.
  setsid nohup dockerd --host unix:///var/run/docker.sock >"$state/dockerd.log" 2>&1 &
  wait_for "dockerd" /usr/bin/docker -H unix:///var/run/docker.sock info
}

emulation_up() {
  apt_install qemu-user-static binfmt-support
  if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  fi
  if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    log "registering qemu-aarch64"
    update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || update-binfmts --import qemu-aarch64
  fi
  grep -q '^flags: .*F' /proc/sys/fs/binfmt_misc/qemu-aarch64
}

registry_config() { # port, auth?
  local port=$1 auth=$2 dir="$state/registry-$1"
  mkdir -p "$dir/data"
  {
    echo "version: 0.1"
    echo "storage: {filesystem: {rootdirectory: $dir/data}, delete: {enabled: true}}"
    echo "http: {addr: 127.0.0.1:$port}"
    echo "log: {level: warn}"
    if [ "$auth" = yes ]; then
      echo "auth: {htpasswd: {realm: faas-test, path: $dir/htpasswd}}"
    fi
  } >"$dir/config.yml"
  echo "$dir/config.yml"
}

registries_up() {
  apt_install docker-registry apache2-utils skopeo
  local cred="$state/auth-registry.credentials"
  if [ ! -s "$cred" ]; then
    # A throwaway password for the test registry only; kept in a 0600 file, never on a command line.
    (umask 077; printf 'faas\n%s\n' "$(head -c 18 /dev/urandom | base64 | tr -d '/+=')" >"$cred")
  fi
  mkdir -p "$state/registry-$auth_registry_port"
  sed -n 2p "$cred" | htpasswd -iBc "$state/registry-$auth_registry_port/htpasswd" faas 2>/dev/null
  local port auth
  for spec in "$registry_port:no" "$auth_registry_port:yes"; do
    port=${spec%%:*}; auth=${spec##*:}
    if curl -s -o /dev/null "http://127.0.0.1:$port/v2/"; then continue; fi
    log "starting registry on 127.0.0.1:$port (auth: $auth)"
    setsid nohup docker-registry serve "$(registry_config "$port" "$auth")" >"$state/registry-$port.log" 2>&1 &
    wait_for "registry :$port" curl -s -o /dev/null "http://127.0.0.1:$port/v2/"
  done
}

moto_up() {
  if [ ! -x "$venv/bin/moto_server" ]; then
    log "installing $(grep -v '^#' "$here/requirements/moto.txt")"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r "$here/requirements/moto.txt"
  fi
  if curl -s -o /dev/null "http://127.0.0.1:$moto_port/moto-api/"; then return 0; fi
  log "starting moto on 127.0.0.1:$moto_port"
  setsid nohup "$venv/bin/moto_server" -H 127.0.0.1 -p "$moto_port" >"$state/moto.log" 2>&1 &
  wait_for "moto" curl -s -o /dev/null "http://127.0.0.1:$moto_port/moto-api/"
}

node_up() {
  cd "$here"
  # A symlinked node_modules (a git worktree sharing another checkout's install) is that checkout's to update:
  # npm ci here would empty it for everyone.
  if [ ! -L node_modules ] && { [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; }; then
    log "npm ci"
    npm ci --no-fund --no-audit --loglevel=error >/dev/null
  fi
  if [ ! -f dist/commands/build.js ] || [ -n "$(find src -newer dist/.built -print -quit 2>/dev/null || echo stale)" ]; then
    log "compiling"
    npm run -s build && touch dist/.built
  fi
}

tools_up() {
  # Chromium renders bench reports in a test; wrk is the reference load tool in the bench perf script.
  apt_install chromium wrk
  # The Runtime Interface Emulator, built from source at a pinned commit, for the conformance tests.
  bash "$here/scripts/rie.sh" >/dev/null
}

bases_up() {
  apt_install debootstrap
  # `faas base build` is itself idempotent: it skips a platform whose image exists.
  DOCKER_HOST=unix:///var/run/docker.sock node "$here/bin/run.js" base build --platform linux/amd64,linux/arm64 >&2
}

# The static helper faas mounts into every local function container (docker/sandbox-init); needs Go here only.
sandbox_init_up() {
  if command -v go >/dev/null || [ -x /usr/local/go/bin/go ]; then bash "$here/docker/sandbox-init/build.sh" >&2
  else echo "stack: no Go: local functions fall back to the /bin/sh variables wrapper" >&2; fi
}

case "${1:-up}" in
  up)
    mkdir -p "$state"
    engine_up
    emulation_up
    registries_up
    moto_up
    tools_up
    node_up
    sandbox_init_up
    bases_up
    print_env
    ;;
  services) mkdir -p "$state"; engine_up; emulation_up; registries_up; moto_up; print_env ;;
  env) print_env ;;
  down)
    pkill -f "moto_server -H 127.0.0.1 -p $moto_port" || true
    pkill -f "docker-registry serve $state/" || true
    ;;
  *) echo "usage: $0 up|services|env|down" >&2; exit 2 ;;
esac
