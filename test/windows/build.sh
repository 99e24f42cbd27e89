#!/usr/bin/env bash
# Cross-builds the addon for Windows x64 with mingw-w64, from the same
# sources binding.gyp lists for OS=='win' (node-gyp + MSVC is the real
# Windows build; this is the local test path, see run.sh). Output:
# prebuilds/win32-x64/tigerio.napi.node, where node-gyp-build looks for a
# win32-x64 Node-API prebuild (git-ignored; never committed).
set -euo pipefail
cd "$(dirname "$0")/../.."
cache=.wine-cache
[ -f "$cache/libnode_api.a" ] || bash test/windows/setup.sh

# binding.gyp is a Python literal with # comments: the common sources, plus
# the OS=='win' condition's, minus its "sources!".
mapfile -t sources < <(python3 - <<'PY'
import ast, re
text = open('binding.gyp').read()
text = '\n'.join(re.sub(r'^\s*#.*$', '', line) for line in text.split('\n'))
target = ast.literal_eval(text)['targets'][0]
sources = list(target['sources'])
for condition in target.get('conditions', []):
    if condition[0] == "OS=='win'":
        sources += condition[1].get('sources', [])
        sources = [s for s in sources if s not in condition[1].get('sources!', [])]
print('\n'.join(sources))
PY
)
addon_api=$(node -p "require('node-addon-api').include_dir")
out=prebuilds/win32-x64/tigerio.napi.node
mkdir -p "$(dirname "$out")" .wine-cache/obj
# -posix: std::thread and std::mutex (gcc 12's win32 thread model has neither);
# everything static, since the Wine prefix has no mingw DLLs.
compiler=x86_64-w64-mingw32-g++-posix
flags=(-std=c++17 -O2 -Wall -Wextra -DNAPI_VERSION=8 -DNAPI_DISABLE_CPP_EXCEPTIONS -DNODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS -DBUILDING_NODE_EXTENSION
       -I"$cache/node-api-headers/include" -I"$addon_api" -Inative)
objects=()
pids=()
for source in "${sources[@]}"; do
  object=".wine-cache/obj/$(echo "$source" | tr '/' '_').o"
  objects+=("$object")
  if [ ! -f "$object" ] || [ "$source" -nt "$object" ] || [ -n "$(find native -name '*.h' -newer "$object" | head -1)" ]; then
    "$compiler" "${flags[@]}" -c "$source" -o "$object" &
    pids+=($!)
  fi
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
[ "$status" -eq 0 ] || { echo "windows: compile failed" >&2; exit 1; }
"$compiler" -shared -o "$out" "${objects[@]}" "$cache/libnode_api.a" -lws2_32 -lmswsock \
  -static -static-libgcc -static-libstdc++
echo "windows: built $out from ${#sources[@]} sources"
