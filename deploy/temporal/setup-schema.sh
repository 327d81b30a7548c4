#!/bin/sh
# One-shot job of docker-compose.yml (service temporal-schema, image temporalio/admin-tools): creates Temporal's
# two PostgreSQL databases when they are missing and brings both schemas up to the version that the admin-tools
# image of the same Temporal release carries. Every command is idempotent, so the job runs on every
# `docker compose up` and also upgrades the schema after the image tags are raised.
set -eu

: "${POSTGRES_SEEDS:?}" "${DB_PORT:?}" "${POSTGRES_USER:?}" "${SQL_PASSWORD:?}"
SCHEMA_DIR=/etc/temporal/schema/postgresql/v12

echo "Waiting for PostgreSQL at ${POSTGRES_SEEDS}:${DB_PORT}..."
tries=0
until nc -z "${POSTGRES_SEEDS}" "${DB_PORT}"; do
  tries=$((tries + 1))
  [ "$tries" -lt 60 ] || { echo "PostgreSQL did not open its port in 120 s" >&2; exit 1; }
  sleep 2
done

sql() {
  temporal-sql-tool --plugin postgres12 --ep "${POSTGRES_SEEDS}" -p "${DB_PORT}" -u "${POSTGRES_USER}" "$@"
}

for pair in "${DBNAME:-temporal}:temporal" "${VISIBILITY_DBNAME:-temporal_visibility}:visibility"; do
  db=${pair%%:*}
  kind=${pair#*:}
  echo "Schema of ${db} (${kind})..."
  sql --db "$db" create
  sql --db "$db" setup-schema -v 0.0
  sql --db "$db" update-schema -d "${SCHEMA_DIR}/${kind}/versioned"
done
echo "Temporal schemas are up to date."
