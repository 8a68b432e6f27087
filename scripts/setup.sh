#!/usr/bin/env bash
# Sets up everything ahs-seg needs on Debian/Ubuntu, idempotently: apt packages (libtorch,
# the OpenMP OpenBLAS, build tools), npm packages, the native addon and the TypeScript build.
# Re-running it only redoes what is missing or stale.
set -euo pipefail
cd "$(dirname "$0")/.."

# chromium: the web page's browser test (playwright-core drives it; no browser download)
APT_PACKAGES=(libtorch-dev libgloo-dev libopenblas0-openmp g++ make python3 fonts-dejavu-core chromium)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ] && [ -z "${LIBTORCH:-}" ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund
fi

# The addon: configure once, then rebuild only when a native source is newer than the binary.
addon=native/build/Release/ahs_seg.node
if [ ! -f "$addon" ] || [ -n "$(find native/src native/binding.gyp native/find-libtorch.cjs native/find-node-headers.cjs -newer "$addon" 2>/dev/null)" ]; then
  echo "setup: building the native addon (about 2 minutes on 2 cores)"
  # The running Node's own headers (never downloaded); the script says which package has them.
  nodedir=$(node native/find-node-headers.cjs)
  npx node-gyp rebuild --nodedir="$nodedir" --directory=native --jobs=max
fi

echo "setup: compiling TypeScript"
npx tsc -p tsconfig.json
echo "setup: done"
