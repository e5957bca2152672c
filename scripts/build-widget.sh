#!/usr/bin/env bash
# Builds the widget into dist/public: three wasm modules with their glue under content-hashed names
# (cached forever) — the widget's first load, the cards module it loads when a card is near and the
# chat module it loads when the chat opens (both from widget-ui, in Leptos) — and the loader fw.js
# that names them (cached briefly).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/wasm-env.sh

out=dist/public
pkg=target/widget-pkg
rm -rf "$pkg" && mkdir -p "$pkg" "$out/w"
# Old hashed files stay out of the bundle.
rm -f "$out"/w/fw-widget-* "$out"/w/fw-cards-* "$out"/w/fw-chat-* "$out"/w/fw-ui-*

# build_module PACKAGE NAME [CARGO ARGS]: the size build (wasm-env.sh), wasm-bindgen, wasm-opt -Oz
# and esbuild for one module; copies it to $out/w/NAME-<hash>.{js,wasm} and sets glue_name and
# wasm_name.
build_module() {
  local package=$1 name=$2 wasm
  shift 2
  wasm=$(wasm_size_build "$package" "$@")
  # The loader always passes the wasm's URL, and every browser that runs these modules (reference
  # types) has TextEncoder#encodeInto: neither fallback is needed in the glue (64 B brotli less).
  wasm-bindgen --target web --no-typescript --omit-default-module-path --encode-into always \
    --out-dir "$pkg" --out-name "$name" "$wasm"
  # wasm-streams' classes, exported by every module that links Leptos (its server_fn), serve server
  # functions these modules do not have: their glue, exports and table entries go here
  # (scripts/drop-stream-classes.mjs says why; measured 2026-12-03: the cards module 1.3 KB brotli
  # less for the glue and exports, 2.6 KB more for the table entries).
  node scripts/drop-stream-classes.mjs "$pkg/$name.js" "$pkg/${name}_bg.wasm"
  # --low-memory-unused: rustc links wasm32 with the stack first (the data starts at 1 MiB, the stack
  # grows down from there), so the low 1 KiB is only reached by a stack 1,047 KB deep; knowing that
  # lets wasm-opt fold constant offsets into loads and stores. With --generate-global-effects it
  # saves ~540 B brotli of the first load and ~850 B of the UI module (measured 2026-12-01).
  # --one-caller-inline-max-function-size=20: -Oz inlines every function that has one caller,
  # whatever its size; big bodies pasted into their callers compress worse than calls do. Limited
  # to small ones, the first load is ~3.9 KB brotli smaller (raw +1 KB) and the UI module ~1 KB
  # (measured over 0/10/20/30/50/100 and unlimited; 20 was the smallest for both).
  local features="--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals --enable-reference-types"
  node_modules/.bin/wasm-opt --low-memory-unused --generate-global-effects -Oz --one-caller-inline-max-function-size=20 \
    --converge --strip-producers $features "$pkg/${name}_bg.wasm" -o "$pkg/$name.big-names.wasm"
  # One- and two-letter names for the imports, exports and import module, in the wasm and in its
  # glue (scripts/short-wasm-names.mjs): wasm-bindgen's hashed import names are incompressible.
  # Measured on the first load: wasm 62,171 -> 59,842 B brotli, glue 5,109 -> 3,360 (2026-12-02).
  node_modules/.bin/wasm-opt --minify-imports-and-exports-and-modules --strip-target-features $features \
    "$pkg/$name.big-names.wasm" -o "$pkg/$name.opt.wasm" > "$pkg/$name.names.json"
  node scripts/short-wasm-names.mjs "$pkg/$name.js" "$pkg/$name.opt.wasm" "$pkg/$name.names.json"
  node_modules/.bin/esbuild "$pkg/$name.js" --minify --format=esm --log-level=warning --outfile="$pkg/$name.min.js"
  # 12 hex digits (48 bits) of content hash: enough that two builds of one module never share a
  # name, and fw.js, which names all six files, carries 24 incompressible digits fewer than with
  # 16 (15 B brotli of the first load, measured 2026-12-03).
  wasm_name="$name-$(sha256sum "$pkg/$name.opt.wasm" | cut -c1-12).wasm"
  glue_name="$name-$(sha256sum "$pkg/$name.min.js" | cut -c1-12).js"
  cp "$pkg/$name.opt.wasm" "$out/w/$wasm_name"
  cp "$pkg/$name.min.js" "$out/w/$glue_name"
}

build_module floorwalker-widget fw-widget
widget_glue=$glue_name widget_wasm=$wasm_name
build_module floorwalker-widget-ui fw-cards --no-default-features --features cards
cards_glue=$glue_name cards_wasm=$wasm_name
build_module floorwalker-widget-ui fw-chat --no-default-features --features chat
chat_glue=$glue_name chat_wasm=$wasm_name

sed -e "s/__FW_GLUE__/$widget_glue/" -e "s/__FW_WASM__/$widget_wasm/" \
    -e "s/__FW_CARDS_GLUE__/$cards_glue/" -e "s/__FW_CARDS_WASM__/$cards_wasm/" \
    -e "s/__FW_CHAT_GLUE__/$chat_glue/" -e "s/__FW_CHAT_WASM__/$chat_wasm/" widget/loader/fw.js > "$pkg/fw.js"
node_modules/.bin/esbuild "$pkg/fw.js" --minify --legal-comments=none --log-level=warning --outfile="$out/fw.js"
cp widget/loader/_headers "$out/_headers"
echo "widget: $out/fw.js -> w/$widget_glue + w/$widget_wasm; on demand: cards w/$cards_glue + w/$cards_wasm, chat w/$chat_glue + w/$chat_wasm"
