#!/usr/bin/env bash
# Installs what is missing, builds, runs every test project, and ends with one line:
#   N passed, N failed, N skipped
# Exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")"
source scripts/deps.sh
ensure_dotnet
ensure_postgres
ensure_runner_tools
ensure_chromium
ensure_proxies
ensure_s3rver
ensure_smtp_receiver

log="$(mktemp)"
trap 'rm -f "$log"' EXIT

if ! dotnet build OdooOps.slnx -c Release --nologo -v quiet >"$log" 2>&1; then
  cat "$log"
  echo "The build failed."
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

dotnet test --solution OdooOps.slnx -c Release --no-build 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# `dotnet test` (Microsoft.Testing.Platform) closes with a summary over all test projects.
total=$(grep -E '^\s*total:' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
failed=$(grep -E '^\s*failed:' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
passed=$(grep -E '^\s*succeeded:' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
skipped=$(grep -E '^\s*skipped:' "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
# CI keeps only the end of the output: repeat each failure's name and message (not its stack) just above the total.
if grep -qE '^failed ' "$log"; then
  echo
  echo "Failures:"
  count=$(grep -cE '^failed ' "$log")
  # a few failures get their whole message (a browser wait's list of requests); many get their first lines
  awk -v lines="$([ "$count" -le 3 ] && echo 45 || echo 12)" '
    /^failed / { n++; shown = 0; inblock = (n <= 20); if (inblock) print "- " substr($0, 8); next }
    inblock && /^  from / { next }
    inblock && /^  / && !/^    at / && shown < lines { print "    " substr($0, 3); shown++; next }
    { inblock = 0 }
    END { if (n > 20) print "… and " n - 20 " more" }
  ' "$log"
  echo
fi
if [ "${total:-0}" -eq 0 ]; then
  echo "No tests ran."
  failed=$(( ${failed:-0} + 1 ))
fi
echo "${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
if [ "$status" -ne 0 ] || [ "${failed:-0}" -ne 0 ]; then exit 1; fi
