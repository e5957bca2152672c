#!/usr/bin/env bash
# Installs everything the build and the tests need, on a fresh Debian machine or a developer's
# laptop. Each step checks first, so a second run takes a couple of seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p target

log() { printf '\033[1msetup:\033[0m %s\n' "$*"; }
sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

apt_packages=(chromium chromium-driver brotli)
apt_updated=""
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  if [ -z "$apt_updated" ]; then sudo_if_needed apt-get update -q; apt_updated=1; fi
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
}

# 1. The wasm32 target: rustup's where it can be had, otherwise Debian's rustc-web with build-std.
#    FLOORWALKER_WASM_ROUTE=build-std forces the fallback (to test it where rustup works).
if [ "${FLOORWALKER_WASM_ROUTE:-}" = build-std ]; then
  apt_packages+=(rustc-web cargo-web rust-web-src lld-22)
  echo build-std > target/.wasm-route
elif rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  echo rustup > target/.wasm-route
elif [ "$(cat target/.wasm-route 2>/dev/null)" != build-std ] && timeout 120 rustup target add wasm32-unknown-unknown; then
  echo rustup > target/.wasm-route
else
  log "rustup cannot fetch the wasm32 std here; using Debian's rustc-web with build-std"
  apt_packages+=(rustc-web cargo-web rust-web-src lld-22)
  echo build-std > target/.wasm-route
fi

# The widget's size build (scripts/build-widget.sh) rebuilds std for wasm without panic machinery;
# on the rustup route that needs std's source. Optional: without it the widget builds as usual.
if [ "$(cat target/.wasm-route)" = rustup ] && ! rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
  timeout 180 rustup component add rust-src || log "rust-src not available; the widget will be built without build-std (larger)"
fi

# 2. Debian packages: the browser and its driver for the tests, brotli for the size figures.
apt_install "${apt_packages[@]}"
if [ "$(cat target/.wasm-route)" = build-std ]; then
  # worker-build asks rustc for the target's libdir before building; build-std supplies the real std.
  sudo_if_needed mkdir -p "$(/usr/bin/rustc --print sysroot)/lib/rustlib/wasm32-unknown-unknown/lib"
  command -v rust-lld >/dev/null || sudo_if_needed ln -sf /usr/bin/ld.lld-22 /usr/local/bin/rust-lld
fi

# 3. npm tools pinned by package-lock.json: wrangler (with workerd), esbuild, binaryen's wasm-opt.
if [ ! -x node_modules/.bin/wrangler ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi

# 4. Cargo-installed tools, at exactly the versions the lock file and workers-rs need.
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3 }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$bindgen_version" ]; then
  log "cargo install wasm-bindgen-cli $bindgen_version (about 6 minutes)"
  cargo install wasm-bindgen-cli --version "$bindgen_version"
fi
worker_build_version=0.8.7
if [ "$(worker-build --version 2>/dev/null | awk '{print $NF}')" != "$worker_build_version" ]; then
  log "cargo install worker-build $worker_build_version (about 11 minutes)"
  cargo install worker-build --version "$worker_build_version"
fi
# wasm-split-cli splits the chat off the widget's UI module (scripts/build-widget.sh); its split
# points come from wasm_split_helpers, whose version the lock file pins to match.
split_version=0.2.4
# (The tool has no --version: cargo's list of installed packages tells.)
if ! command -v wasm-split-cli >/dev/null || ! cargo install --list | grep -qx "wasm_split_cli_support v$split_version:"; then
  log "cargo install wasm_split_cli_support $split_version (about 2 minutes)"
  cargo install --locked wasm_split_cli_support --version "$split_version" --features build-binary
fi
log "ready (wasm route: $(cat target/.wasm-route))"
