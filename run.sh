#!/usr/bin/env bash
# Installs what is missing, builds, and serves OdooOps on http://127.0.0.1:8080 with its own local database.
# Ctrl+C stops the server and its database. Data stays in $OPS_DATA_DIR (default ./.odooops) for the next run.
set -euo pipefail
cd "$(dirname "$0")"
source scripts/deps.sh
ensure_dotnet
ensure_postgres
ensure_runner_tools

data_dir="${OPS_DATA_DIR:-$PWD/.odooops}"
# As root the postgres user must be able to reach the data dir; a home folder like /root is not searchable.
if [ "$(id -u)" -eq 0 ] && [ -z "${OPS_DATA_DIR:-}" ] && ! runuser -u postgres -- test -x "$PWD"; then
  data_dir=/var/lib/odooops
fi
mkdir -p "$data_dir"

echo "Building OdooOps …"
dotnet publish src/OdooOps/OdooOps.csproj -c Release -o .build/odooops --nologo -v quiet -p:TreatWarningsAsErrors=true >/dev/null

# The demo password is made once and kept beside the data, so every run can say how to sign in.
password_file="$data_dir/demo-password"
if [ -z "${OPS_DEMO_PASSWORD:-}" ]; then
  if [ ! -s "$password_file" ]; then
    (umask 077; head -c 18 /dev/urandom | base64 | tr -d '/+=' | head -c 16 > "$password_file")
  fi
  OPS_DEMO_PASSWORD="$(cat "$password_file")"
fi
# The demo projects' repositories are folders in the data dir: let this (single-user) server build from local paths.
export OPS_DEMO_PASSWORD OPS_DATA_DIR="$data_dir" OPS_ALLOW_LOCAL_REPOS="${OPS_ALLOW_LOCAL_REPOS:-1}"

urls="${OPS_URLS:-http://127.0.0.1:8080}"
cat <<MSG

  OdooOps is starting on $urls
  Sign in as admin@demo.odooops.dev with password: $OPS_DEMO_PASSWORD
  (also developer@, tester@ and viewer@demo.odooops.dev, same password)
  Data: $data_dir — Ctrl+C stops the server and its database.

MSG
exec .build/odooops/odooops serve --urls "$urls" --seed-demo
