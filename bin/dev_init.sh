#!/usr/bin/env bash
# Prepares a checkout to run: certificates, .env, the gateway config, the images.
#
#   bin/dev_init.sh              make whatever is missing; a second run changes nothing
#   bin/dev_init.sh --force      new certificates and a new API key (other .env settings stay)
#   bin/dev_init.sh --no-images  everything but the Docker images (bin/up needs no images)
#
# Makes, with openssl:
#   certs/ca.pem                      the project CA (its key: certs/ca-key.pem)
#   certs/envoy.pem                   the gateway's server certificate (localhost, 127.0.0.1, envoy)
#   certs/envoy-client.pem            Envoy's client certificate towards the services
#   certs/song-producer.pem           servers: their compose name, localhost, 127.0.0.1
#   certs/cover-designer.pem
#   certs/song-producer-client.pem    the song producer's client certificate towards the cover designer
# each with its key beside it (*-key.pem, mode 600). Then .env from .env.example with a
# fresh random API key, the rendered gateway config (envoy/generated/), the folders
# compose keeps its data in (data/compose/), and `docker compose build` when a Docker
# engine answers. When a base image can be neither found nor pulled it says to run
# bin/base-images (stand-ins for a machine without a registry) and stops.
#
# The containers run as SUPERSTAR_UID:SUPERSTAR_GID from .env: your ids, so that they
# can read the keys and write data/compose/. As root it writes 65532 (distroless's
# nonroot user) instead and hands that user the keys the containers read and
# data/compose/: no container runs as root.
set -euo pipefail
cd "$(dirname "$0")/.."

force=false
new_key=false
images=true
for arg in "$@"; do
  case "$arg" in
    --force) force=true new_key=true ;;
    --no-images) images=false ;;
    *) echo "usage: bin/dev_init.sh [--force] [--no-images]" >&2; exit 2 ;;
  esac
done

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
if [ "$(id -u)" -eq 0 ]; then uid=65532 gid=65532; else uid=$(id -u) gid=$(id -g); fi
if [ ! -f .env ]; then
  sed -e "s|^SUPERSTAR_API_KEYS=.*|SUPERSTAR_API_KEYS=$(new_api_key)|" \
    -e "s|^SUPERSTAR_UID=.*|SUPERSTAR_UID=$uid|" -e "s|^SUPERSTAR_GID=.*|SUPERSTAR_GID=$gid|" \
    .env.example >.env
  say "wrote .env with a fresh API key"
elif $new_key; then
  sed -i "s|^SUPERSTAR_API_KEYS=.*|SUPERSTAR_API_KEYS=$(new_api_key)|" .env
  say "new API key in .env"
fi
# An .env from before containers refused root may name uid 0.
if grep -q '^SUPERSTAR_UID=0$' .env; then
  sed -i 's|^SUPERSTAR_UID=0$|SUPERSTAR_UID=65532|; s|^SUPERSTAR_GID=0$|SUPERSTAR_GID=65532|' .env
  say "containers now run as 65532, not root (SUPERSTAR_UID in .env)"
fi
# Fresh random passwords for the PostgreSQL override wherever .env has none (also in an
# .env made before they existed).
for name in POSTGRES_PASSWORD SONG_PRODUCER_DB_PASSWORD COVER_DESIGNER_DB_PASSWORD; do
  grep -q "^$name=." .env && continue
  if grep -q "^$name=" .env; then
    sed -i "s|^$name=.*|$name=$(openssl rand -hex 24)|" .env
  else
    echo "$name=$(openssl rand -hex 24)" >>.env
  fi
  say "wrote a fresh $name into .env"
done
chmod 600 .env

# --- What the containers read and write ---------------------------------------------------
data_dir=$(sed -n 's/^SUPERSTAR_DATA_DIR=//p' .env)
data_dirs=("${data_dir:-./data/compose}/song-producer" "${data_dir:-./data/compose}/cover-designer")
mkdir -p "${data_dirs[@]}"
if [ "$(id -u)" -eq 0 ]; then
  uid=$(sed -n 's/^SUPERSTAR_UID=//p' .env) gid=$(sed -n 's/^SUPERSTAR_GID=//p' .env)
  # Every key but the CA's, which no container gets.
  find certs -name '*-key.pem' ! -name ca-key.pem -exec chown "$uid:$gid" {} +
  chown "$uid:$gid" "${data_dirs[@]}"
fi

# --- Gateway config -----------------------------------------------------------------------
if command -v cargo >/dev/null 2>&1; then
  # shellcheck source=bin/lib/tools.sh
  source bin/lib/tools.sh
  build_system --quiet -p gateway-config
  gateway_config="$(release_dir)/gateway-config"
  if [ -x "$gateway_config" ]; then
    for profile in local compose; do
      "$gateway_config" --profile "$profile" --env-file .env --out envoy/generated >/dev/null
    done
    say "rendered envoy/generated/envoy-local.yaml and envoy-compose.yaml"
  else
    # SUPERSTAR_SKIP_BUILD before the build (bin/test makes the certificates first).
    say "gateway-config is not built yet: bin/up renders the config at each start"
  fi
else
  say "no cargo here: the gateway image renders its config from .env when it starts"
fi

# --- Images -------------------------------------------------------------------------------
if ! $images; then
  exit 0
elif ! command -v docker >/dev/null 2>&1 || ! docker info >/dev/null 2>&1; then
  say "no Docker engine: run the whole system with bin/up"
elif ! docker compose version >/dev/null 2>&1; then
  say "Docker Compose v2 (docker compose) is missing: install it, or run the whole system with bin/up"
  exit 1
else
  # Every base image must be here or pullable; if not, this says to run bin/base-images.
  bin/base-images --check
  # SUPERSTAR_CARGO_PROFILE (release) and CARGO_BUILD_JOBS, when set, reach the build.
  docker compose build --build-arg SUPERSTAR_CARGO_PROFILE --build-arg CARGO_BUILD_JOBS
  say "ready: docker compose up"
fi
