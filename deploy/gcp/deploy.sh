#!/usr/bin/env bash
# Deploys every lbfn create function to Google Cloud Functions (2nd gen), twice each:
#   <name>          HTTP trigger, the same contract as the AWS HTTP API route
#   <name>-pubsub   Pub/Sub trigger on topic ${TOPIC_PREFIX}<name>, retry on, and a dead-letter
#                   topic on its subscription after MAX_DELIVERY_ATTEMPTS deliveries
# and the HTTP function chatops (public: the chat platforms sign their own requests, which it
# verifies), publishing each chat command to the create function's topic.
# Credentials come from Secret Manager as environment variables (--set-secrets); nothing
# secret is passed on the command line. Permanent failures go to the failure topic.
#
# Usage (from anywhere):   PROJECT=my-project deploy/gcp/deploy.sh
#   DRY_RUN=1 prints the gcloud commands instead of running them (the upload is still staged).
# Every variable is described in deploy/README.md.
set -euo pipefail

: "${PROJECT:?set PROJECT to the Google Cloud project id}"
REGION="${REGION:-asia-east2}"
RUNTIME="${RUNTIME:-go126}"
MEMORY="${MEMORY:-256Mi}"
HTTP_TIMEOUT="${HTTP_TIMEOUT:-60}"
PUBSUB_TIMEOUT="${PUBSUB_TIMEOUT:-120}"
MAX_INSTANCES="${MAX_INSTANCES:-5}"
SERVICE_ACCOUNT="${SERVICE_ACCOUNT:-}"
ALLOW_UNAUTHENTICATED="${ALLOW_UNAUTHENTICATED:-0}"
TOPIC_PREFIX="${TOPIC_PREFIX:-lbfn-}"
FAILURE_TOPIC="${FAILURE_TOPIC:-lbfn-failures}"
DEAD_LETTER_TOPIC="${DEAD_LETTER_TOPIC:-lbfn-dead-letter}"
MAX_DELIVERY_ATTEMPTS="${MAX_DELIVERY_ATTEMPTS:-10}"
SECRET_PREFIX="${SECRET_PREFIX:-lbfn-}"
WEBHOOK_SECRET="${WEBHOOK_SECRET:-}"
JDCLOUD_LB_ENDPOINT="${JDCLOUD_LB_ENDPOINT:-}"
HUAWEICLOUD_ELB_ENDPOINT="${HUAWEICLOUD_ELB_ENDPOINT:-}"
CTYUN_ELB_ENDPOINT="${CTYUN_ELB_ENDPOINT:-}"
CHATOPS="${CHATOPS:-1}"
# CHAT_SECRETS: the chatops variables held in Secret Manager (one secret each, named like the
# others: LBFN_SLACK_SIGNING_SECRET -> lbfn-lbfn-slack-signing-secret), space-separated.
CHAT_SECRETS="${CHAT_SECRETS:-}"
CHATOPS_URL="${CHATOPS_URL:-}"
FEISHU_API_BASE="${FEISHU_API_BASE:-}"
DRY_RUN="${DRY_RUN:-0}"
STAGE_DIR="${STAGE_DIR:-}"

for v in HTTP_TIMEOUT PUBSUB_TIMEOUT; do
  if ! [[ "${!v}" =~ ^[0-9]+$ ]] || (( ${!v} < 15 )); then
    echo "$v must be a whole number of seconds, at least 15 (got ${!v})" >&2
    exit 2
  fi
done

FUNCTIONS=(
  # BEGIN GENERATED functions: shared/catalog's, by `go run ./deploy/gen -update`
  jdcloud-create-backend
  huawei-create-pool
  huawei-create-lbaas-pool
  huawei-create-master-slave-pool
  ctyun-create-policy
  # END GENERATED functions
)

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

# The upload is staged, not the repository itself: the Go buildpack of Cloud Functions builds
# the one non-main package at the root of the uploaded source (it parses that directory alone
# and never reads GOOGLE_FUNCTION_SOURCE), and the repository's top level has no Go package.
# The stage holds go.mod, go.sum, the code under functions/ and shared/ without tests or test
# data, and deploy/gcp/root/functions.go as its root package, which registers every function.
# deploy/gcp_stage_test.go checks the stage the way the buildpack reads it.
if [[ -z "$STAGE_DIR" ]]; then
  STAGE_DIR="$(mktemp -d)"
  trap 'rm -rf "$STAGE_DIR"' EXIT
elif [[ -e "$STAGE_DIR" && -n "$(ls -A "$STAGE_DIR")" ]]; then
  echo "STAGE_DIR $STAGE_DIR is not empty: give a new or empty directory" >&2
  exit 2
fi
stage_source() {
  mkdir -p "$STAGE_DIR"
  cp "$REPO/go.mod" "$REPO/go.sum" "$STAGE_DIR/"
  cp "$REPO/deploy/gcp/root/functions.go" "$STAGE_DIR/functions.go"
  (cd "$REPO" && find functions shared -type d -name testdata -prune -o -type f ! -name '*_test.go' -print0) |
    (cd "$REPO" && tar --null -T - -cf -) | (cd "$STAGE_DIR" && tar -xf -)
}
stage_source
SOURCE="$STAGE_DIR"

run() {
  if [[ "$DRY_RUN" == 1 ]]; then
    printf '%q ' "$@"
    printf '\n'
  else
    "$@"
  fi
}

# secret_name VARIABLE: the Secret Manager secret holding VARIABLE (CTYUN_AK -> lbfn-ctyun-ak).
secret_name() {
  local lower
  lower="$(printf '%s' "$1" | tr '[:upper:]_' '[:lower:]-')"
  printf '%s%s' "$SECRET_PREFIX" "$lower"
}

# secrets_for FUNCTION: the --set-secrets value, VARIABLE=secret:latest for each credential
# of the function's cloud.
secrets_for() {
  local vars=() out="" v
  case "$1" in
    jdcloud-*) vars=(JDCLOUD_ACCESS_KEY JDCLOUD_SECRET_KEY) ;;
    huawei-*) vars=(HUAWEICLOUD_SDK_AK HUAWEICLOUD_SDK_SK HUAWEICLOUD_SDK_PROJECT_ID) ;;
    ctyun-*) vars=(CTYUN_AK CTYUN_SK) ;;
    *) echo "no credentials known for $1" >&2; return 1 ;;
  esac
  for v in "${vars[@]}"; do
    out+="${out:+,}${v}=$(secret_name "$v"):latest"
  done
  printf '%s' "$out"
}

# endpoint_vars FUNCTION: the --set-env-vars entries of a provider base URL override, if any.
endpoint_vars() {
  case "$1" in
    jdcloud-*) [[ -z "$JDCLOUD_LB_ENDPOINT" ]] || printf ',JDCLOUD_LB_ENDPOINT=%s' "$JDCLOUD_LB_ENDPOINT" ;;
    huawei-*) [[ -z "$HUAWEICLOUD_ELB_ENDPOINT" ]] || printf ',HUAWEICLOUD_ELB_ENDPOINT=%s' "$HUAWEICLOUD_ELB_ENDPOINT" ;;
    ctyun-*) [[ -z "$CTYUN_ELB_ENDPOINT" ]] || printf ',CTYUN_ELB_ENDPOINT=%s' "$CTYUN_ELB_ENDPOINT" ;;
  esac
}

ensure_topic() {
  if [[ "$DRY_RUN" == 1 ]] || ! gcloud pubsub topics describe "$1" --project="$PROJECT" >/dev/null 2>&1; then
    run gcloud pubsub topics create "$1" --project="$PROJECT"
  fi
}

common_flags=(
  --gen2
  --project="$PROJECT"
  --region="$REGION"
  --runtime="$RUNTIME"
  --source="$SOURCE"
  --memory="$MEMORY"
  --max-instances="$MAX_INSTANCES"
)
if [[ -n "$SERVICE_ACCOUNT" ]]; then
  common_flags+=(--service-account="$SERVICE_ACCOUNT")
fi

ensure_topic "$FAILURE_TOPIC"
ensure_topic "$DEAD_LETTER_TOPIC"

if [[ "$DRY_RUN" == 1 ]]; then
  project_number="PROJECT_NUMBER"
else
  project_number="$(gcloud projects describe "$PROJECT" --format='value(projectNumber)')"
fi
pubsub_agent="serviceAccount:service-${project_number}@gcp-sa-pubsub.iam.gserviceaccount.com"
# Pub/Sub itself moves undeliverable messages: its service agent must publish to the
# dead-letter topic.
run gcloud pubsub topics add-iam-policy-binding "$DEAD_LETTER_TOPIC" --project="$PROJECT" \
  --member="$pubsub_agent" --role=roles/pubsub.publisher --format=none

for fn in "${FUNCTIONS[@]}"; do
  secrets="$(secrets_for "$fn")"
  http_secrets="$secrets"
  if [[ -n "$WEBHOOK_SECRET" ]]; then
    http_secrets+=",LBFN_WEBHOOK_SECRET=${WEBHOOK_SECRET}:latest"
  fi
  endpoints="$(endpoint_vars "$fn")"

  # <name>: the HTTP function.
  auth_flag=--no-allow-unauthenticated
  if [[ "$ALLOW_UNAUTHENTICATED" == 1 ]]; then
    auth_flag=--allow-unauthenticated
  fi
  run gcloud functions deploy "$fn" "${common_flags[@]}" \
    --entry-point="$fn" \
    --trigger-http "$auth_flag" \
    --timeout="${HTTP_TIMEOUT}s" \
    --set-env-vars="LBFN_REQUEST_TIMEOUT=$((HTTP_TIMEOUT - 5))s${endpoints}" \
    --set-secrets="$http_secrets"

  # <name>-pubsub: the Pub/Sub function, redelivered on retryable failures and in_progress.
  topic="${TOPIC_PREFIX}${fn}"
  ensure_topic "$topic"
  run gcloud functions deploy "${fn}-pubsub" "${common_flags[@]}" \
    --entry-point="${fn}-pubsub" \
    --trigger-topic="$topic" \
    --retry \
    --timeout="${PUBSUB_TIMEOUT}s" \
    --set-env-vars="LBFN_REQUEST_TIMEOUT=$((PUBSUB_TIMEOUT - 10))s,LBFN_FAILURE_TOPIC=projects/${PROJECT}/topics/${FAILURE_TOPIC}${endpoints}" \
    --set-secrets="$secrets"

  # The trigger's subscription (made by Eventarc) gets the dead-letter topic.
  if [[ "$DRY_RUN" == 1 ]]; then
    subscription="SUBSCRIPTION_OF_${fn}-pubsub"
  else
    trigger="$(gcloud functions describe "${fn}-pubsub" --gen2 --project="$PROJECT" --region="$REGION" \
      --format='value(eventTrigger.trigger)')"
    subscription="$(gcloud eventarc triggers describe "$trigger" --project="$PROJECT" --location="$REGION" \
      --format='value(transport.pubsub.subscription)')"
  fi
  run gcloud pubsub subscriptions update "$subscription" --project="$PROJECT" \
    --dead-letter-topic="projects/${PROJECT}/topics/${DEAD_LETTER_TOPIC}" \
    --max-delivery-attempts="$MAX_DELIVERY_ATTEMPTS"
  run gcloud pubsub subscriptions add-iam-policy-binding "$subscription" --project="$PROJECT" \
    --member="$pubsub_agent" --role=roles/pubsub.subscriber --format=none
done

if [[ "$CHATOPS" == 1 ]]; then
  # chatops publishes to every create function's topic, as its own service account.
  chat_env=""
  for fn in "${FUNCTIONS[@]}"; do
    var="LBFN_TOPIC_$(printf '%s' "$fn" | tr '[:lower:]-' '[:upper:]_')"
    chat_env+="${chat_env:+,}${var}=projects/${PROJECT}/topics/${TOPIC_PREFIX}${fn}"
  done
  [[ -z "$CHATOPS_URL" ]] || chat_env+=",LBFN_CHATOPS_URL=${CHATOPS_URL}"
  [[ -z "$FEISHU_API_BASE" ]] || chat_env+=",LBFN_FEISHU_API_BASE=${FEISHU_API_BASE}"
  chat_secrets=""
  read -r -a chat_vars <<< "$CHAT_SECRETS"
  for v in "${chat_vars[@]}"; do
    chat_secrets+="${chat_secrets:+,}${v}=$(secret_name "$v"):latest"
  done
  chat_flags=(--entry-point=chatops --trigger-http --allow-unauthenticated --timeout=15s
    --set-env-vars="$chat_env")
  if [[ -n "$chat_secrets" ]]; then
    chat_flags+=(--set-secrets="$chat_secrets")
  fi
  run gcloud functions deploy chatops "${common_flags[@]}" "${chat_flags[@]}"

  publisher="serviceAccount:${SERVICE_ACCOUNT:-${project_number}-compute@developer.gserviceaccount.com}"
  for fn in "${FUNCTIONS[@]}"; do
    run gcloud pubsub topics add-iam-policy-binding "${TOPIC_PREFIX}${fn}" --project="$PROJECT" \
      --member="$publisher" --role=roles/pubsub.publisher --format=none
  done
fi

echo "deployed ${#FUNCTIONS[@]} functions (HTTP and Pub/Sub) to ${PROJECT}/${REGION}"
[[ "$CHATOPS" != 1 ]] || echo "deployed chatops: give each platform <its URL>/chatops/<slack|feishu|dingtalk|wecom>"
