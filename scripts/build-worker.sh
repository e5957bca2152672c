#!/usr/bin/env bash
# Builds the edge worker (edge-worker/build/index.js + wasm) with worker-build, using the pinned
# wasm-bindgen, esbuild and wasm-opt instead of letting it download its own.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/wasm-env.sh
export WASM_BINDGEN_BIN="${CARGO_HOME:-$HOME/.cargo}/bin/wasm-bindgen"
export ESBUILD_BIN="$PWD/node_modules/.bin/esbuild"
export WASM_OPT_BIN="$PWD/node_modules/.bin/wasm-opt"
cd edge-worker
worker-build --release
