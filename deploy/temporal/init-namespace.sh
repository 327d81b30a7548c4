#!/bin/sh
# One-shot job of docker-compose.yml (service temporal-init, image temporalio/admin-tools), run once the server
# answers: creates Shepherd's namespace when it is missing (the temporalio/server image creates none) and
# registers Shepherd's search attributes on it, all Keyword. Shepherd's worker waits for this job, so its first
# workflow never meets a namespace or search attribute that is not there yet. Idempotent.
set -eu

ADDRESS=${TEMPORAL_ADDRESS:?}
NAMESPACE=${SHEPHERD_NAMESPACE:-default}
RETENTION=${SHEPHERD_NAMESPACE_RETENTION:-30d}

echo "Waiting for the Temporal frontend at ${ADDRESS}..."
tries=0
until temporal operator cluster health --address "$ADDRESS" >/dev/null 2>&1; do
  tries=$((tries + 1))
  [ "$tries" -lt 60 ] || { echo "Temporal at ${ADDRESS} was not healthy within 120 s" >&2; exit 1; }
  sleep 2
done

if temporal operator namespace describe --address "$ADDRESS" --namespace "$NAMESPACE" >/dev/null 2>&1; then
  echo "Namespace ${NAMESPACE} exists."
else
  echo "Creating namespace ${NAMESPACE} (retention ${RETENTION})..."
  temporal operator namespace create --address "$ADDRESS" --namespace "$NAMESPACE" --retention "$RETENTION"
fi

existing=$(temporal operator search-attribute list --address "$ADDRESS" --namespace "$NAMESPACE")
for name in ShepherdApp ShepherdEnvironment ShepherdImageTag ShepherdStatus; do
  if printf '%s\n' "$existing" | grep -qw "$name"; then
    echo "Search attribute ${name} exists."
  else
    echo "Adding search attribute ${name} (Keyword)..."
    temporal operator search-attribute create --address "$ADDRESS" --namespace "$NAMESPACE" --name "$name" --type Keyword
  fi
done
echo "Namespace ${NAMESPACE} is ready for Shepherd."
