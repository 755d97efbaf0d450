#!/bin/sh
# Installs Recharge's CUPS backend on a Debian print server, from a checkout where `npm ci && npm run build`
# has run (it copies the compiled backend and the one package it needs, zod; the portal is not installed).
# Run as root. See README.md beside this script for what a site does before and after.
set -eu

usage() {
  cat <<'USAGE'
Usage: install.sh [options]
  --config FILE       the backend's configuration (default /etc/recharge/cups-backend.json; an example is
                      written there, readable by root only, when it does not exist)
  --prefix DIR        where the backend's files go (default /usr/lib/recharge-cups)
  --serverbin DIR     CUPS's ServerBin: the backend goes in its backend/ folder (default /usr/lib/cups)
  --node FILE         the Node.js 20 or later that runs the backend (default: node on PATH)
  --no-cron           do not write /etc/cron.d/recharge-cups (it replays debits kept while the portal was unreachable)
  --queue NAME --device URI
                      also create the queue NAME printing to URI through Recharge
  --wrap NAME         put the existing queue NAME behind Recharge (its device URI is kept inside recharge:/…)
USAGE
}

config=/etc/recharge/cups-backend.json
prefix=/usr/lib/recharge-cups
serverbin=/usr/lib/cups
node=$(command -v node || true)
cron=/etc/cron.d/recharge-cups
queue=
device=
wrap=
while [ $# -gt 0 ]; do
  case "$1" in
    --config) config=$2; shift 2 ;;
    --prefix) prefix=$2; shift 2 ;;
    --serverbin) serverbin=$2; shift 2 ;;
    --node) node=$2; shift 2 ;;
    --no-cron) cron=; shift ;;
    --queue) queue=$2; shift 2 ;;
    --device) device=$2; shift 2 ;;
    --wrap) wrap=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
done

fail() { echo "install.sh: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || fail "run it as root: the backend runs as root (mode 0700) to read its key and keep its spool"
[ -n "$node" ] && [ -x "$node" ] || fail "Node.js not found: install Node.js 20 or later, or name it with --node"
node=$(readlink -f "$node")
# Root will run this Node on every job: it and every folder above it must be root's and writable by root alone
# (a Node under a user's home, from nvm say, would let that user run code as root).
path=$node
while [ "$path" != / ]; do
  [ "$(stat -c '%u' "$path")" -eq 0 ] || fail "$path is not root's: root would run a program another account can replace"
  case "$(stat -c '%A' "$path")" in
    ?????w????|????????w?) [ -k "$path" ] && [ -d "$path" ] && [ "$path" != "$node" ] || fail "$path is writable by others than root: root would run a program another account can replace" ;;
  esac
  path=$(dirname "$path")
done
"$node" -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || fail "$node is Node.js $("$node" --version): 20 or later is needed"
[ -n "$queue" ] && [ -z "$device" ] && fail "--queue needs --device"
[ -n "$device" ] && [ -z "$queue" ] && fail "--device needs --queue"

here=$(cd "$(dirname "$0")" && pwd)
checkout=$(cd "$here/../.." && pwd)
compiled="$checkout/dist/src/cups-backend"
[ -f "$compiled/main.js" ] || fail "$compiled/main.js is missing: run npm ci && npm run build in $checkout first"
[ -d "$checkout/node_modules/zod" ] || fail "$checkout/node_modules/zod is missing: run npm ci in $checkout first"

# CUPS runs a backend only when it and its folder are root's and writable by nobody else; the same goes
# here for everything the backend loads, since it runs as root.
install -d -o root -g root -m 0755 "$prefix" "$prefix/node_modules"
rm -rf "$prefix/node_modules/zod"
# -L copies what links point to: a link left in the checkout by the account that built it would otherwise
# lead root, on every job, to a file that account can change.
cp -RL "$checkout/node_modules/zod" "$prefix/node_modules/zod"
cp -RL "$compiled/." "$prefix/"
install -o root -g root -m 0644 "$here/README.md" "$prefix/README.md"
printf '{ "type": "module", "private": true }\n' > "$prefix/package.json"
chown -R root:root "$prefix"
chmod -R go-w "$prefix"

quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
write_launcher() { # file, entry
  {
    echo '#!/bin/sh'
    echo "# Recharge print accounting, installed by install.sh: see $prefix/README.md"
    echo "RECHARGE_CUPS_CONFIG=$(quote "$config")"
    echo 'export RECHARGE_CUPS_CONFIG'
    echo "exec $(quote "$node") $(quote "$prefix/$2") \"\$@\""
  } > "$1"
}
# Mode 0700: CUPS runs the backend as root (0755 would make it lp), as the backend it wraps may need.
install -d -o root -g root -m 0755 "$serverbin/backend"
write_launcher "$serverbin/backend/recharge" main.js
chown root:root "$serverbin/backend/recharge"
chmod 0700 "$serverbin/backend/recharge"
write_launcher "$prefix/recharge-cups-replay" replay.js
chmod 0700 "$prefix/recharge-cups-replay"

if [ ! -e "$config" ]; then
  install -d -o root -g root -m 0755 "$(dirname "$config")"
  install -o root -g root -m 0600 "$here/cups-backend.example.json" "$config"
  echo "Wrote an example configuration to $config: set the portal's address, the API key and each queue's prices."
fi

if [ -n "$cron" ] && [ -d "$(dirname "$cron")" ]; then
  echo "*/5 * * * * root $(quote "$prefix/recharge-cups-replay") >/dev/null" > "$cron"
  chmod 0644 "$cron"
fi

# A queue behind Recharge retries a job whose backend failed (the wrapped backend's own failures, or a
# backend killed mid-job): its debit is keyed by the job, so a retried job is debited once.
if [ -n "$queue" ]; then
  lpadmin -p "$queue" -E -v "recharge:/$device" -o printer-error-policy=retry-job
  echo "Created queue $queue: recharge:/$device"
fi
if [ -n "$wrap" ]; then
  current=$(lpstat -v "$wrap" | sed -n 's/^device for [^:]*: //p')
  [ -n "$current" ] || fail "no queue named $wrap"
  case "$current" in
    recharge:/*) echo "Queue $wrap is already behind Recharge: $current" ;;
    *) lpadmin -p "$wrap" -v "recharge:/$current" -o printer-error-policy=retry-job
       echo "Queue $wrap now prints through Recharge: recharge:/$current" ;;
  esac
fi
echo "Installed the Recharge backend: $serverbin/backend/recharge (configuration $config)"
