#!/usr/bin/env bash
# EC2 only, installed by the user-data script as /usr/local/sbin/stockstreamer-boot-hook and run at every
# boot by stockstreamer-bootstrap.service. cloud-init runs user data on an instance's first boot only; this
# runs the instance's *current* user data at each later one. `cdk deploy` with new code changes the user
# data (and stops and starts the box), so the next boot installs the new release; an unchanged one exits
# in a second (the user data compares its release with the installed one).
set -euo pipefail
imds=http://169.254.169.254/latest
token=$(curl -fsS -m 5 --retry 10 --retry-connrefused -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' "$imds/api/token")
umask 077
curl -fsS -m 10 --retry 10 -H "X-aws-ec2-metadata-token: $token" -o /run/stockstreamer-user-data.sh "$imds/user-data"
exec bash /run/stockstreamer-user-data.sh
