#!/bin/sh
# Renders the `compose` profile from the environment, then becomes Envoy.
set -eu
gateway-config --profile compose --env-file /dev/null --out /etc/superstar/gateway
exec envoy -c /etc/superstar/gateway/envoy-compose.yaml --log-level "${ENVOY_LOG_LEVEL:-warn}" \
  --file-flush-interval-msec 500
