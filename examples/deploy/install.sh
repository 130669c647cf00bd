#!/usr/bin/env bash
# Installs Herald for a team on a systemd machine (Debian, Ubuntu):
#   the binary            PREFIX/bin/herald (PREFIX is /usr/local unless --prefix)
#   the config and rules  /etc/herald/herald.yaml, /etc/herald/rules/ (kept if they exist)
#   the secrets           /etc/herald/herald.env (a template, mode 0600; kept if it exists)
#   the state             /var/lib/herald (the unit's StateDirectory; the config's storage.sqlite points there)
#   the unit              /etc/systemd/system/herald.service
# and, as root on the real system, the `herald` system user.
#
#   examples/deploy/install.sh [--prefix DIR] [--destdir DIR] [--binary FILE]
#
# --binary installs an already built binary instead of running `swift build -c release`; --destdir installs
# into a staging tree (packaging, tests) and then creates no user and reloads nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."

prefix=/usr/local
destdir=""
binary=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --prefix) prefix="$2"; shift 2 ;;
        --destdir) destdir="$2"; shift 2 ;;
        --binary) binary="$2"; shift 2 ;;
        *) echo "unknown option $1; usage: $0 [--prefix DIR] [--destdir DIR] [--binary FILE]" >&2; exit 64 ;;
    esac
done

if [[ -z "$binary" ]]; then
    swift build -c release --product herald
    binary="$(swift build -c release --show-bin-path)/herald"
fi
[[ -x "$binary" ]] || { echo "no herald binary at $binary" >&2; exit 1; }

etc="$destdir/etc/herald"
install -D -m 0755 "$binary" "$destdir$prefix/bin/herald"
install -D -m 0644 README.md "$destdir$prefix/share/doc/herald/README.md"
install -d -m 0750 "$etc"
if [[ ! -e "$etc/herald.yaml" ]]; then
    # The example config, with its database in the state directory.
    sed -e 's#^  sqlite: .*#  sqlite: /var/lib/herald/herald.sqlite#' herald.yaml > "$etc/herald.yaml"
    chmod 0640 "$etc/herald.yaml"
fi
if [[ ! -e "$etc/rules" ]]; then
    install -d -m 0750 "$etc/rules"
    install -m 0640 rules/*.yaml "$etc/rules/"
fi
if [[ ! -e "$etc/herald.env" ]]; then
    install -m 0600 /dev/null "$etc/herald.env"
    cat > "$etc/herald.env" <<'ENV'
# Secrets for herald.yaml's ${VAR}s, read by systemd (EnvironmentFile). Keep this file mode 0600.
# HERALD_ADMIN_TOKEN=
# HERALD_PUBLIC_URL=https://herald.example.com
# SLACK_SIGNING_SECRET=
# SLACK_ACME_TOKEN=
ENV
fi
install -d "$destdir/etc/systemd/system"
sed -e "s#@BINARY@#$prefix/bin/herald#" -e "s#file:///usr/local/share/doc/herald#file://$prefix/share/doc/herald#" \
    examples/deploy/herald.service > "$destdir/etc/systemd/system/herald.service"

if [[ -z "$destdir" && "$(id -u)" -eq 0 ]]; then
    id herald >/dev/null 2>&1 || useradd --system --home-dir /var/lib/herald --no-create-home --shell /usr/sbin/nologin herald
    chown -R root:herald "$etc"
    command -v systemctl >/dev/null && [[ -d /run/systemd/system ]] && systemctl daemon-reload || true
fi

echo "installed herald $("$destdir$prefix/bin/herald" --version) to $destdir$prefix/bin/herald"
echo "next: put secrets in /etc/herald/herald.env, check with 'herald rules check --config /etc/herald/herald.yaml',"
echo "      then 'systemctl enable --now herald' and 'journalctl -u herald -f'"
