# Shared by run.sh and test.sh: install what OdooOps needs when it is missing.
# Debian/Ubuntu packages through apt-get, as root or with passwordless sudo; otherwise say what to run.

apt_install() {
  local packages=("$@")
  local apt=(apt-get)
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      apt=(sudo apt-get)
    else
      echo "Missing packages: ${packages[*]}. Install them with: sudo apt-get install -y ${packages[*]}" >&2
      exit 1
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "Missing packages: ${packages[*]}, and this machine has no apt-get: install them with your package manager." >&2
    exit 1
  fi
  echo "Installing ${packages[*]} …"
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
}

have_postgres_server() {
  command -v initdb >/dev/null 2>&1 && return 0
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && return 0
  return 1
}

ensure_dotnet() {
  if ! command -v dotnet >/dev/null 2>&1; then
    echo "The .NET SDK (10.0) is required: https://learn.microsoft.com/dotnet/core/install/linux-debian" >&2
    exit 1
  fi
}

ensure_postgres() {
  if ! have_postgres_server || ! command -v pg_dump >/dev/null 2>&1; then
    apt_install postgresql postgresql-client
  fi
  # As root, OdooOps runs the server programs as the postgres OS user (initdb refuses root).
  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    echo "The postgres OS user is missing although PostgreSQL is installed; reinstall the postgresql package." >&2
    exit 1
  fi
}

# The console's browser tests drive Debian's Chromium through Playwright (never a downloaded browser build).
ensure_chromium() {
  if [ ! -x /usr/bin/chromium ]; then
    apt_install chromium
  fi
}

# The instance proxy's TLS examples (docs/examples/nginx.conf, Caddyfile) are tested with a real nginx and a real
# Caddy in front of serve. The packages' own services are stopped at once: the tests start each with the example on
# loopback ports of their own.
ensure_proxies() {
  local missing=()
  [ -x /usr/sbin/nginx ] || command -v nginx >/dev/null 2>&1 || missing+=(nginx-light)
  command -v caddy >/dev/null 2>&1 || missing+=(caddy)
  if [ "${#missing[@]}" -gt 0 ]; then
    apt_install "${missing[@]}"
    if command -v service >/dev/null 2>&1; then
      service nginx stop >/dev/null 2>&1 || true
      service caddy stop >/dev/null 2>&1 || true
    fi
  fi
}

# The build runner checks repositories out with git, runs each step in a session of its own (setsid, util-linux)
# and ends a dead runner's leftovers with pkill (procps). Every build runs in a sandbox: bubblewrap, slirp4netns for
# its outbound network, python3 for the tests' memory-hog step, and psycopg2 (Debian's, the driver Odoo uses) for the
# tests' stand-in odoo-bin (tests/odoo-standin).
ensure_runner_tools() {
  local missing=()
  command -v git >/dev/null 2>&1 || missing+=(git)
  command -v setsid >/dev/null 2>&1 || missing+=(util-linux)
  command -v pkill >/dev/null 2>&1 || missing+=(procps)
  command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
  command -v slirp4netns >/dev/null 2>&1 || missing+=(slirp4netns)
  [ -x /usr/bin/python3 ] || missing+=(python3)
  /usr/bin/python3 -c 'import psycopg2' >/dev/null 2>&1 || missing+=(python3-psycopg2)
  if [ "${#missing[@]}" -gt 0 ]; then
    apt_install "${missing[@]}"
  fi
}

# The notification tests deliver e-mail to a real SMTP server started by the tests: Debian's aiosmtpd, run with Debian's
# python3 (tests/OdooOps.Tests/Notifications/SmtpReceiver.cs).
ensure_smtp_receiver() {
  if ! /usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1; then
    apt_install python3-aiosmtpd
  fi
}

# The backup storage's S3 tests run a real S3 server: s3rver (npm), installed once into a tools folder outside the
# repository (no global install), where the tests look for it (tests/OdooOps.Tests/Backups/Storage/S3rver.cs).
S3RVER_VERSION=3.7.1
s3rver_dir() {
  echo "${ODOOOPS_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/odooops}/s3rver-${S3RVER_VERSION}"
}

ensure_s3rver() {
  local dir
  dir="$(s3rver_dir)"
  [ -f "$dir/node_modules/s3rver/bin/s3rver.js" ] && return 0
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    apt_install nodejs npm
  fi
  echo "Installing s3rver ${S3RVER_VERSION} into $dir …"
  mkdir -p "$(dirname "$dir")"
  # Into a temporary folder first, moved into place whole: an interrupted install is never taken for a finished one.
  local staging="$dir.staging.$$"
  rm -rf "$staging"
  if ! npm install --prefix "$staging" --no-audit --no-fund --loglevel=error "s3rver@${S3RVER_VERSION}" >/dev/null; then
    rm -rf "$staging"
    echo "Could not install s3rver ${S3RVER_VERSION} with npm." >&2
    exit 1
  fi
  rm -rf "$dir"
  mv "$staging" "$dir"
}
