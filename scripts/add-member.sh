#!/usr/bin/env bash
# `make owner` and `make operator`: adds a member with ROLE to a site of a running worker through
# the admin API (POST /v1/admin/sites/$SITE/operators). The values come from the environment (make
# passes its command-line variables there) and are JSON-encoded by node, so a name or password with
# quotes or backslashes arrives as typed; the body goes through stdin, not the command line.
set -euo pipefail
: "${ROLE:?ROLE is owner or operator}"
# PASSWORD may be left out when the email already has an account (from another site): it joins
# with the password it has.
if [[ -z "${EMAIL:-}" || -z "${NAME:-}" || -z "${ADMIN_TOKEN:-}" ]]; then
  echo "usage: make $ROLE EMAIL=... NAME=... [PASSWORD=...] ADMIN_TOKEN=... [URL=http://127.0.0.1:8787] [SITE=demo]" >&2
  exit 2
fi
URL="${URL:-http://127.0.0.1:8787}"
SITE="${SITE:-demo}"
body=$(node -e 'const e = process.env; process.stdout.write(JSON.stringify({email: e.EMAIL, name: e.NAME, password: e.PASSWORD || undefined, role: e.ROLE}))')
printf '%s' "$body" | curl -sS --fail-with-body -X POST -H "authorization: Bearer $ADMIN_TOKEN" -H 'content-type: application/json' \
  --data-binary @- "${URL%/}/v1/admin/sites/$SITE/operators"
echo
if [[ "$ROLE" == owner ]]; then
  echo "$EMAIL owns site $SITE: log in at ${URL%/}/console/"
fi
