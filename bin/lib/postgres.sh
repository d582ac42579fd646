# shellcheck shell=bash
# Starts a throw-away PostgreSQL server for the tests, idempotently, and exports
# SUPERSTAR_TEST_POSTGRES_URL. Sourced by bin/test, which leaves it running for the next
# run; `stop_test_postgres` stops it and deletes its data.
#
# - Uses Debian's PostgreSQL, installing it with apt-get when no server binary exists.
# - Keeps its data outside the checkout, in a folder of the temporary directory named
#   after the checkout (so two checkouts get two servers), and listens on 127.0.0.1
#   only, on a free port chosen at first start and reused afterwards. Outside, because
#   as root the server runs as `postgres`, which cannot enter a checkout in a private
#   folder (under /root, or a mode-700 `mktemp -d`).
# - A server this script started earlier and that still runs is reused as it is.
# - PostgreSQL refuses to run as root, so as root the server runs as `postgres`.
# - It speaks TLS too, with a certificate for localhost and 127.0.0.1 from a CA of its
#   own (made with openssl, beside its data): SUPERSTAR_TEST_POSTGRES_CA names that CA,
#   for tests of `sslmode=verify-full`. Plaintext connections stay allowed.

postgres_bin_dir() {
  find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin 2>/dev/null | sort -V | tail -n 1
}

install_postgres() {
  if [ -n "$(postgres_bin_dir)" ]; then return; fi
  echo "bin/test: installing PostgreSQL (Debian package)"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq postgresql >/dev/null
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The server's folder: outside the checkout, named after it.
test_postgres_root() {
  echo "${TMPDIR:-/tmp}/superstar-test-postgres-$(printf '%s' "$PWD" | cksum | cut -d ' ' -f 1)"
}

# A CA and a server certificate for the test server, in $1, once.
make_test_postgres_tls() {
  local tls="$1"
  [ -f "$tls/server.pem" ] && return
  mkdir -p "$tls"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tls/ca-key.pem" 2>/dev/null
  openssl req -x509 -new -key "$tls/ca-key.pem" -sha256 -days 3650 \
    -subj "/CN=Superstar test PostgreSQL CA" -out "$tls/ca.pem" 2>/dev/null
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$tls/server-key.pem" 2>/dev/null
  openssl req -new -key "$tls/server-key.pem" -subj "/CN=localhost" -out "$tls/server.csr" 2>/dev/null
  openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca-key.pem" -CAcreateserial \
    -days 3650 -sha256 -out "$tls/server.pem" \
    -extfile <(printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n') 2>/dev/null
  rm -f "$tls/server.csr" "$tls/ca.srl" "$tls/ca-key.pem"
  # PostgreSQL reads its key only if no one else may.
  chmod 600 "$tls/server-key.pem"
}

start_test_postgres() {
  install_postgres
  local bin root data port as_owner=()
  bin="$(postgres_bin_dir)"
  root="$(test_postgres_root)"
  data="$root/data"
  mkdir -p "$root"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir "$root" --shell /usr/sbin/nologin postgres
    chown postgres "$root"
    as_owner=(runuser -u postgres --)
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    "${as_owner[@]}" "$bin/initdb" --pgdata="$data" --username=postgres --auth=trust --encoding=UTF8 --no-instructions >/dev/null
  fi
  make_test_postgres_tls "$root/tls"
  [ "$(id -u)" -ne 0 ] || chown -R postgres "$root/tls"
  # A server started before it had TLS is restarted with it.
  if [ -f "$root/port" ] && "${as_owner[@]}" "$bin/pg_ctl" status --pgdata="$data" >/dev/null 2>&1 &&
    [ "$("$bin/psql" -qAt "postgres://postgres@127.0.0.1:$(cat "$root/port")/postgres" -c 'SHOW ssl' 2>/dev/null)" != on ]; then
    "${as_owner[@]}" "$bin/pg_ctl" stop --pgdata="$data" --mode=fast --silent
  fi
  if ! "${as_owner[@]}" "$bin/pg_ctl" status --pgdata="$data" >/dev/null 2>&1; then
    port="$(free_port)"
    echo "$port" >"$root/port"
    "${as_owner[@]}" "$bin/pg_ctl" start --pgdata="$data" --wait --silent --log="$root/server.log" \
      -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$root -c fsync=off -c max_connections=300 -c ssl=on -c ssl_cert_file=$root/tls/server.pem -c ssl_key_file=$root/tls/server-key.pem" \
      || { cat "$root/server.log" >&2; return 1; }
  fi
  port="$(cat "$root/port")"
  export SUPERSTAR_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
  export SUPERSTAR_TEST_POSTGRES_CA="$root/tls/ca.pem"
  # Scratch databases of earlier runs.
  "$bin/psql" -qAt "$SUPERSTAR_TEST_POSTGRES_URL" \
    -c "SELECT datname FROM pg_database WHERE datname LIKE 'superstar_test_%'" |
    while read -r name; do "$bin/psql" -q "$SUPERSTAR_TEST_POSTGRES_URL" -c "DROP DATABASE \"$name\"" >/dev/null; done
  echo "bin/test: PostgreSQL on 127.0.0.1:$port"
}

stop_test_postgres() {
  local root
  root="$(test_postgres_root)"
  [ -d "$root/data" ] || return 0
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$(postgres_bin_dir)/pg_ctl" stop --pgdata="$root/data" --mode=fast --silent || true
  else
    "$(postgres_bin_dir)/pg_ctl" stop --pgdata="$root/data" --mode=fast --silent || true
  fi
  rm -rf "$root"
}
