#!/usr/bin/env bash
# Builds the widget into dist/public: the wasm and its glue under content-hashed names (cached
# forever), and the loader fw.js that names them (cached briefly).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/wasm-env.sh

out=dist/public
pkg=target/widget-pkg
rm -rf "$pkg" && mkdir -p "$pkg" "$out/w"

wasm=$(wasm_size_build floorwalker-widget)
wasm-bindgen --target web --no-typescript --out-dir "$pkg" --out-name fw-widget "$wasm"
node_modules/.bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types \
  "$pkg/fw-widget_bg.wasm" -o "$pkg/fw-widget.opt.wasm"
node_modules/.bin/esbuild "$pkg/fw-widget.js" --minify --format=esm --log-level=warning --outfile="$pkg/fw-widget.min.js"

wasm_hash=$(sha256sum "$pkg/fw-widget.opt.wasm" | cut -c1-16)
glue_hash=$(sha256sum "$pkg/fw-widget.min.js" | cut -c1-16)
wasm_name="fw-widget-$wasm_hash.wasm"
glue_name="fw-widget-$glue_hash.js"
# Old hashed files stay out of the bundle.
rm -f "$out"/w/fw-widget-*
cp "$pkg/fw-widget.opt.wasm" "$out/w/$wasm_name"
cp "$pkg/fw-widget.min.js" "$out/w/$glue_name"

sed -e "s/__FW_GLUE__/$glue_name/" -e "s/__FW_WASM__/$wasm_name/" widget/loader/fw.js > "$pkg/fw.js"
node_modules/.bin/esbuild "$pkg/fw.js" --minify --legal-comments=none --log-level=warning --outfile="$out/fw.js"
cp widget/loader/_headers "$out/_headers"
echo "widget: $out/fw.js -> w/$glue_name + w/$wasm_name"
