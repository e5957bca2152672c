#!/usr/bin/env bash
# Builds the widget into dist/public, under content-hashed names (cached forever): the widget's first
# load (wasm and glue); the UI module (widget-ui, in Leptos: the prompt cards), loaded when a card is
# near; the chat, a chunk split off the UI module that the module fetches when the chat opens; and
# the loader fw.js that names the first two (cached briefly).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/wasm-env.sh

out=dist/public
pkg=target/widget-pkg
rm -rf "$pkg" && mkdir -p "$pkg" "$out/w"
# Old hashed files stay out of the bundle.
rm -f "$out"/w/fw-widget-* "$out"/w/fw-cards-* "$out"/w/fw-chat-* "$out"/w/fw-ui-*

features="--enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals --enable-reference-types"
# --low-memory-unused: rustc links wasm32 with the stack first (the data starts at 1 MiB, the stack
# grows down from there), so the low 1 KiB is only reached by a stack 1,047 KB deep; knowing that
# lets wasm-opt fold constant offsets into loads and stores. With --generate-global-effects it
# saves ~540 B brotli of the first load and ~850 B of the UI module (measured 2026-12-01).
# --one-caller-inline-max-function-size=20: -Oz inlines every function that has one caller,
# whatever its size; big bodies pasted into their callers compress worse than calls do. Limited
# to small ones, the first load is ~3.9 KB brotli smaller (raw +1 KB) and the UI module ~1 KB
# (measured over 0/10/20/30/50/100 and unlimited; 20 was the smallest for both).
optimize() {
  node_modules/.bin/wasm-opt --low-memory-unused --generate-global-effects -Oz --one-caller-inline-max-function-size=20 \
    --converge --strip-producers $features "$1" -o "$2"
}

# finish_module NAME WASM [LINK.js]: wasm-bindgen, wasm-opt -Oz and esbuild for one module built by
# wasm_size_build (wasm-env.sh); copies it to $out/w/NAME-<hash>.{js,wasm} and sets glue_name and
# wasm_name. LINK.js, for a module split by wasm-split-cli, is the JS that loads its chunks: the
# glue imports it, and it is bundled into the glue.
finish_module() {
  local name=$1 wasm=$2 link=${3:-}
  # The loader always passes the wasm's URL, and every browser that runs these modules (reference
  # types) has TextEncoder#encodeInto: neither fallback is needed in the glue (64 B brotli less).
  # A split module keeps its function table exported (--keep-lld-exports): its chunks fill their
  # slots in it when they load.
  wasm-bindgen --target web --no-typescript --omit-default-module-path --encode-into always \
    ${link:+--keep-lld-exports} --out-dir "$pkg" --out-name "$name" "$wasm"
  if [ -n "$link" ]; then cp "$link" "$pkg/"; fi
  # wasm-streams' classes, exported by every module that links Leptos (its server_fn), serve server
  # functions these modules do not have: their glue, exports and table entries go here
  # (scripts/drop-stream-classes.mjs says why; measured 2026-12-03: the cards module 1.3 KB brotli
  # less for the glue and exports, 2.6 KB more for the table entries).
  node scripts/drop-stream-classes.mjs "$pkg/$name.js" "$pkg/${name}_bg.wasm"
  optimize "$pkg/${name}_bg.wasm" "$pkg/$name.big-names.wasm"
  # One- and two-letter names for the imports, exports and import module, in the wasm and in its
  # glue (scripts/short-wasm-names.mjs): wasm-bindgen's hashed import names are incompressible.
  # Measured on the first load: wasm 62,171 -> 59,842 B brotli, glue 5,109 -> 3,360 (2026-12-02).
  node_modules/.bin/wasm-opt --minify-imports-and-exports-and-modules --strip-target-features $features \
    "$pkg/$name.big-names.wasm" -o "$pkg/$name.opt.wasm" > "$pkg/$name.names.json"
  node scripts/short-wasm-names.mjs "$pkg/$name.js" "$pkg/$name.opt.wasm" "$pkg/$name.names.json" ${link:+"$pkg/$(basename "$link")"}
  node_modules/.bin/esbuild "$pkg/$name.js" --bundle --minify --format=esm --log-level=warning --outfile="$pkg/$name.min.js"
  # 12 hex digits (48 bits) of content hash: enough that two builds of one module never share a
  # name, and fw.js, which names four files, carries 24 incompressible digits fewer than with
  # 16 (15 B brotli of the first load, measured 2026-12-03).
  wasm_name="$name-$(sha256sum "$pkg/$name.opt.wasm" | cut -c1-12).wasm"
  glue_name="$name-$(sha256sum "$pkg/$name.min.js" | cut -c1-12).js"
  cp "$pkg/$name.opt.wasm" "$out/w/$wasm_name"
  cp "$pkg/$name.min.js" "$out/w/$glue_name"
}

build_module() {
  local package=$1 name=$2
  shift 2
  local wasm
  wasm=$(wasm_size_build "$package" "$@")
  finish_module "$name" "$wasm"
}

build_module floorwalker-widget fw-widget
widget_glue=$glue_name widget_wasm=$wasm_name

# The UI module, split: wasm-split-cli moves what only the chat reaches (from its
# `#[wasm_split(chat)]` point in widget-ui/src/lib.rs) into a chunk of its own, which the module
# fetches when the chat opens; the chat then uses the cards' Leptos runtime instead of a copy of
# its own. The tool needs the module's relocations; it writes the rest of the module, the chunk
# and the link JS that fetches and instantiates the chunk.
ui_wasm=$(WASM_EMIT_RELOCS=1 wasm_size_build floorwalker-widget-ui)
split=$pkg/split
wasm-split-cli --target web --out-name fw-ui "$ui_wasm" "$split"
optimize "$split/split_chat.wasm" "$pkg/fw-chat.opt.wasm"
chat_wasm="fw-chat-$(sha256sum "$pkg/fw-chat.opt.wasm" | cut -c1-12).wasm"
cp "$pkg/fw-chat.opt.wasm" "$out/w/$chat_wasm"
grep -q '"./split_chat.wasm"' "$split/__wasm_split.js" || { echo "build-widget: the link JS does not fetch split_chat.wasm" >&2; exit 1; }
sed -i "s|\"./split_chat.wasm\"|\"./$chat_wasm\"|" "$split/__wasm_split.js"
finish_module fw-ui "$split/fw-ui.wasm" "$split/__wasm_split.js"
ui_glue=$glue_name ui_wasm=$wasm_name

sed -e "s/__FW_GLUE__/$widget_glue/" -e "s/__FW_WASM__/$widget_wasm/" \
    -e "s/__FW_UI_GLUE__/$ui_glue/" -e "s/__FW_UI_WASM__/$ui_wasm/" widget/loader/fw.js > "$pkg/fw.js"
node_modules/.bin/esbuild "$pkg/fw.js" --minify --legal-comments=none --log-level=warning --outfile="$out/fw.js"
cp widget/loader/_headers "$out/_headers"
echo "widget: $out/fw.js -> w/$widget_glue + w/$widget_wasm; on demand: the UI module w/$ui_glue + w/$ui_wasm, its chat chunk w/$chat_wasm"
