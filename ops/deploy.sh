#!/usr/bin/env bash
# From an AWS account to the live dashboard, in one command (see ops/README.md):
#
#   ops/deploy.sh                                   HTTPS on the Elastic IP (self-signed), SSM access
#   ops/deploy.sh -c domain=dash.example.com -c email=me@example.com -c adminCidr=203.0.113.7/32
#
# Uses the AWS credentials and region of your shell (AWS_PROFILE, AWS_REGION, `aws configure`). Bootstraps
# CDK in the account and region if needed (idempotent), deploys the stack, waits until the box reports a
# healthy install, prints the URL, and pins the Debian image the box got so that later deploys (upgrades)
# never replace the instance and the data on it. Extra arguments go to `cdk deploy`.
set -euo pipefail

ops=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$ops")
cd "$ops"

if [ ! -x "$repo/node_modules/.bin/cdk" ]; then
  echo "== installing the project's tools (npm ci)"
  (cd "$repo" && npm ci --no-audit --no-fund)
fi
cdk() { "$repo/node_modules/.bin/cdk" "$@"; }

# The stack name is a context value too (-c stackName=…); outputs and the pin are kept per stack.
stack=Stockstreamer
args=("$@")
context=()
for ((i = 0; i < ${#args[@]}; i++)); do
  if [ "${args[i]}" = -c ] || [ "${args[i]}" = --context ]; then
    context+=(-c "${args[i + 1]:-}")
    case "${args[i + 1]:-}" in stackName=*) stack=${args[i + 1]#stackName=} ;; esac
  fi
done

echo "== CDK bootstrap (once per account and region; a no-op when done)"
# Only the settings: the other arguments are for `cdk deploy`.
cdk bootstrap ${context[@]+"${context[@]}"}

echo "== deploying $stack (the first deploy takes about 10 minutes: the box installs itself)"
outputs=$repo/.data/cdk.out/$stack-outputs.json
cdk deploy "$stack" --outputs-file "$outputs" "$@"

read_output() { node -e 'const o = require(process.argv[1])[process.argv[2]] ?? {}; process.stdout.write(o[process.argv[3]] ?? "")' "$outputs" "$stack" "$1"; }
image=$(read_output ImageId)
context_file=$ops/cdk.context.json
if [ -n "$image" ] && ! grep -q '"amiId"' "$context_file" 2>/dev/null; then
  # A newer Debian image would make CloudFormation replace the instance, and with it the database.
  node -e '
    const fs = require("node:fs");
    const [file, image] = process.argv.slice(1);
    const context = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : {};
    context.amiId = image;
    fs.writeFileSync(file, JSON.stringify(context, null, 2) + "\n");
  ' "$context_file" "$image"
  echo "== pinned the box's image $image in $context_file (keep that file for later deploys)"
fi

echo
echo "The dashboard: $(read_output Url)"
echo "Public IP:     $(read_output PublicIp)"
echo "Shell:         $(read_output Connect)"
