#!/usr/bin/env bash
# `make bench`: the widget's transfer size (brotli, as served to browsers that accept it) and the
# main-thread time it adds to a demo product page in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

size() { brotli -c -q 11 "$1" | wc -c; }
gz() { gzip -c -9 "$1" | wc -c; }
loader=dist/public/fw.js
glue=$(ls dist/public/w/fw-widget-*.js)
wasm=$(ls dist/public/w/fw-widget-*.wasm)
printf '\nwidget transfer size (bytes)\n%-10s %10s %10s %10s\n' part raw gzip brotli
total_br=0
for part in loader:$loader glue:$glue wasm:$wasm; do
  name=${part%%:*} file=${part#*:}
  br=$(size "$file"); total_br=$((total_br + br))
  printf '%-10s %10d %10d %10d\n' "$name" "$(stat -c %s "$file")" "$(gz "$file")" "$br"
done
printf '%-10s %10s %10s %10d  (budget 92160 = 90 KB; loader budget 3072)\n' total '' '' "$total_br"
loader_br=$(size "$loader")
if [ "$total_br" -gt 92160 ] || [ "$loader_br" -gt 3072 ]; then
  echo "make bench: the first load is over its budget" >&2
  over_budget=1
fi

# The UI module (prompt cards and the chat panel), fetched only when a card is near (two thirds of
# the minimum dwell) or the visitor opens the chat.
chat_glue=$(ls dist/public/w/fw-ui-*.js)
chat_wasm=$(ls dist/public/w/fw-ui-*.wasm)
printf '\nUI module (cards and chat), loaded on demand (bytes)\n%-10s %10s %10s %10s\n' part raw gzip brotli
chat_br=0
for part in glue:$chat_glue wasm:$chat_wasm; do
  name=${part%%:*} file=${part#*:}
  br=$(size "$file"); chat_br=$((chat_br + br))
  printf '%-10s %10d %10d %10d\n' "$name" "$(stat -c %s "$file")" "$(gz "$file")" "$br"
done
printf '%-10s %10s %10s %10d\n' total '' '' "$chat_br"

worker_wasm=edge-worker/build/index_bg.wasm
printf '\nworker bundle: index.js %d bytes, wasm %d bytes raw / %d gzip\n' \
  "$(stat -c %s edge-worker/build/index.js)" "$(stat -c %s $worker_wasm)" "$(gz $worker_wasm)"

cargo run -q --release -p floorwalker-e2e --bin floorwalker-bench

# The figures above are printed either way; a first load over budget fails the command.
exit "${over_budget:-0}"
