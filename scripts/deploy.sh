#!/usr/bin/env bash
# `npm run deploy -- <stage>`: the one command of a production deploy (docs/DEPLOYING.md).
# 1. builds the worker image and pushes it to ECR, tagged with the commit;
# 2. `serverless deploy --stage <stage>` with that image: CloudFormation applies the migrations
#    first (the migrate function, in the VPC), then updates the functions and the worker service;
#    a failed migration or a worker that does not become healthy rolls the whole stack back.
# Needs: the AWS CLI with credentials for the stage's account, Docker, deploy/stages/<stage>.yml.
set -euo pipefail
cd "$(dirname "$0")/.."

stage="${1:?usage: npm run deploy -- <stage>}"
stage_file="${AGENDA_STAGE_FILE:-./deploy/stages/${stage}.yml}"
[ -f "$stage_file" ] || { echo "no stage file $stage_file: start from deploy/stages/example.yml" >&2; exit 2; }
region="$(sed -n 's/^region: *//p' "$stage_file")"
region="${region:-${AWS_REGION:-us-east-1}}"
repository="${WORKER_REPOSITORY:-agenda-worker}"
platform="$(grep -q 'architecture: *ARM64' "$stage_file" && echo linux/arm64 || echo linux/amd64)"
tag="$(git rev-parse --short=12 HEAD)$(git diff --quiet HEAD || echo -dirty)"
serverless="${AGENDA_SERVERLESS:-npx serverless}"

account="$(aws sts get-caller-identity --query Account --output text)"
registry="${account}.dkr.ecr.${region}.amazonaws.com"
image="${registry}/${repository}:${tag}"

echo "== worker image ${image} (${platform})"
aws ecr describe-repositories --region "$region" --repository-names "$repository" >/dev/null 2>&1 ||
  aws ecr create-repository --region "$region" --repository-name "$repository" \
    --image-scanning-configuration scanOnPush=true --image-tag-mutability IMMUTABLE >/dev/null
aws ecr get-login-password --region "$region" | docker login --username AWS --password-stdin "$registry"
# An immutable tag already pushed (a redeploy of the same commit) is reused as it is.
if ! aws ecr describe-images --region "$region" --repository-name "$repository" --image-ids "imageTag=${tag}" >/dev/null 2>&1; then
  docker build --platform "$platform" -t "$image" .
  docker push "$image"
fi

echo "== serverless deploy --stage ${stage}"
AGENDA_STAGE_FILE="$stage_file" WORKER_IMAGE="$image" $serverless deploy --stage "$stage" --region "$region"
