#!/usr/bin/env bash
# Runs once, when the postgres container initialises its data folder (the official
# image runs /docker-entrypoint-initdb.d/*.sh): one role and one database per service,
# each database closed to everyone but its owner, so each service reaches only its own
# data with its own password.
set -euo pipefail
for role in song_producer cover_designer; do
  password_variable="${role^^}_DB_PASSWORD"
  psql --quiet -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    --set role="$role" --set password="${!password_variable}" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password';
CREATE DATABASE :"role" OWNER :"role";
REVOKE ALL ON DATABASE :"role" FROM PUBLIC;
SQL
done
