#!/usr/bin/env bash
# Prepares a checkout to run: certificates, .env, the gateway config, the images.
#
#   bin/dev_init.sh            make whatever is missing; a second run changes nothing
#   bin/dev_init.sh --force    new certificates and a new API key (other .env settings stay)
#
# Makes, with openssl:
#   certs/ca.pem                      the project CA (its key: certs/ca-key.pem)
#   certs/envoy.pem                   the gateway's server certificate (localhost, 127.0.0.1, envoy)
#   certs/envoy-client.pem            Envoy's client certificate towards the services
#   certs/song-producer.pem           servers: their compose name, localhost, 127.0.0.1
#   certs/cover-designer.pem
#   certs/song-producer-client.pem    the song producer's client certificate towards the cover designer
# each with its key beside it (*-key.pem, mode 600). Then .env from .env.example with a
# fresh random API key, the rendered gateway config (envoy/generated/), and
# `docker compose build` when a Docker engine answers.
set -euo pipefail
cd "$(dirname "$0")/.."

force=false
case "${1:-}" in
  --force) force=true ;;
  "") ;;
  *) echo "usage: bin/dev_init.sh [--force]" >&2; exit 2 ;;
esac

say() { printf 'dev_init: %s\n' "$*"; }
umask 077
mkdir -p certs data

# --- Certificates -------------------------------------------------------------------------
new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

if $force || [ ! -f certs/ca.pem ] || [ ! -f certs/ca-key.pem ]; then
  new_key certs/ca-key.pem
  openssl req -x509 -new -key certs/ca-key.pem -sha256 -days 3650 -subj "/CN=Superstar development CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out certs/ca.pem 2>/dev/null
  say "made the CA (certs/ca.pem)"
  force=true # every certificate must come from this CA
fi

# issue NAME USAGE SAN...: a certificate signed by the CA; USAGE is serverAuth or clientAuth.
issue() {
  local name=$1 usage=$2 sans
  shift 2
  if ! $force && [ -f "certs/$name.pem" ] && [ -f "certs/$name-key.pem" ]; then return; fi
  sans=$(IFS=,; echo "$*")
  new_key "certs/$name-key.pem"
  openssl req -new -key "certs/$name-key.pem" -subj "/CN=$name" -out "certs/$name.csr" 2>/dev/null
  openssl x509 -req -in "certs/$name.csr" -CA certs/ca.pem -CAkey certs/ca-key.pem -CAcreateserial \
    -days 825 -sha256 -out "certs/$name.pem" -extfile <(printf '%s\n' \
      "basicConstraints=critical,CA:FALSE" \
      "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=$usage" \
      "subjectAltName=$sans") 2>/dev/null
  rm -f "certs/$name.csr"
  say "made certs/$name.pem"
}

local_names="DNS:localhost,IP:127.0.0.1"
issue envoy serverAuth "DNS:envoy,$local_names"
issue envoy-client clientAuth "DNS:envoy"
issue song-producer serverAuth "DNS:song-producer,$local_names"
issue cover-designer serverAuth "DNS:cover-designer,$local_names"
issue song-producer-client clientAuth "DNS:song-producer"
chmod 644 certs/*.pem
chmod 600 certs/*-key.pem
rm -f certs/ca.srl

# --- .env ---------------------------------------------------------------------------------
new_api_key() { echo "dev:$(openssl rand -hex 24)"; }
if [ ! -f .env ]; then
  sed -e "s|^SUPERSTAR_API_KEYS=.*|SUPERSTAR_API_KEYS=$(new_api_key)|" \
    -e "s|^SUPERSTAR_UID=.*|SUPERSTAR_UID=$(id -u)|" -e "s|^SUPERSTAR_GID=.*|SUPERSTAR_GID=$(id -g)|" \
    .env.example >.env
  say "wrote .env with a fresh API key"
elif [ "${1:-}" = "--force" ]; then
  sed -i "s|^SUPERSTAR_API_KEYS=.*|SUPERSTAR_API_KEYS=$(new_api_key)|" .env
  say "new API key in .env"
fi
chmod 600 .env

# --- Gateway config -----------------------------------------------------------------------
if command -v cargo >/dev/null 2>&1; then
  for profile in local compose; do
    cargo run --quiet --release -p gateway-config -- --profile "$profile" --env-file .env --out envoy/generated >/dev/null
  done
  say "rendered envoy/generated/envoy-local.yaml and envoy-compose.yaml"
else
  say "no cargo here: the gateway image renders its config from .env when it starts"
fi

# --- Images -------------------------------------------------------------------------------
if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  docker compose build
  say "ready: docker compose up"
else
  say "no Docker engine: run the whole system with bin/up"
fi
