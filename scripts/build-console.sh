#!/usr/bin/env bash
# Builds the operator console into dist/public/console: index.html names the wasm, its glue and
# the stylesheet under content-hashed names, like the widget's files.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/wasm-env.sh

out=dist/public/console
pkg=target/console-pkg
rm -rf "$pkg" && mkdir -p "$pkg" "$out"

cargo build --release --target wasm32-unknown-unknown -p floorwalker-console
wasm-bindgen --target web --no-typescript --out-dir "$pkg" --out-name console \
  target/wasm32-unknown-unknown/release/floorwalker_console.wasm
node_modules/.bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types \
  "$pkg/console_bg.wasm" -o "$pkg/console.opt.wasm"
node_modules/.bin/esbuild "$pkg/console.js" --minify --format=esm --log-level=warning --outfile="$pkg/console.min.js"

hash() { sha256sum "$1" | cut -c1-16; }
wasm_name="console-$(hash "$pkg/console.opt.wasm").wasm"
glue_name="console-$(hash "$pkg/console.min.js").js"
css_name="console-$(hash console/console.css).css"
rm -f "$out"/console-*
cp "$pkg/console.opt.wasm" "$out/$wasm_name"
cp "$pkg/console.min.js" "$out/$glue_name"
cp console/console.css "$out/$css_name"
sed -e "s/__CONSOLE_GLUE__/$glue_name/" -e "s/__CONSOLE_WASM__/$wasm_name/" -e "s/__CONSOLE_CSS__/$css_name/" \
  console/index.html > "$out/index.html"
echo "console: $out/index.html -> $glue_name + $wasm_name + $css_name"
