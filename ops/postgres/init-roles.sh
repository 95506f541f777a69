#!/bin/sh
# Least privilege in compose (docs/operations.md, "PostgreSQL roles"): each
# service logs in as its own role, owner of its own database and of nothing
# else; no other ordinary role may connect to that database. The postgres
# image runs this once, when its data volume is empty
# (/docker-entrypoint-initdb.d), as the superuser, which is used for nothing
# else. A volume made before: run the same SQL once by hand, or start afresh
# with `docker compose down -v`.
set -eu
services="auth products orders shipments"
for service in $services; do
  variable="PG_$(echo "$service" | tr '[:lower:]' '[:upper:]')_PASSWORD"
  if [ -z "$(printenv "$variable" || true)" ]; then
    echo "init-roles.sh: set $variable (the password of the orderflow_$service role)" >&2
    exit 1
  fi
done
for service in $services; do
  password=$(printenv "PG_$(echo "$service" | tr '[:lower:]' '[:upper:]')_PASSWORD")
  psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres \
    -v role="orderflow_$service" -v password="$password" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password' NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE DATABASE :"role" OWNER :"role";
REVOKE ALL ON DATABASE :"role" FROM PUBLIC;
SQL
done
