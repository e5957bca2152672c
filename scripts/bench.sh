#!/usr/bin/env bash
# `make bench`: the widget's transfer size (brotli, as served to browsers that accept it) at each
# stage of a visit, and the main-thread time it adds to a demo product page in headless Chromium.
# Prints the four figures of issue 16 against their goals and fails when one is over.
set -euo pipefail
cd "$(dirname "$0")/.."

size() { brotli -c -q 11 "$1" | wc -c; }
gz() { gzip -c -9 "$1" | wc -c; }

# part_table TITLE FILE...: one row per file (raw, gzip, brotli); sets table_br to the brotli sum.
part_table() {
  local title=$1 file br
  shift
  printf '\n%s (bytes)\n%-34s %10s %10s %10s\n' "$title" file raw gzip brotli
  table_br=0
  for file in "$@"; do
    br=$(size "$file"); table_br=$((table_br + br))
    printf '%-34s %10d %10d %10d\n' "${file#dist/public/}" "$(stat -c %s "$file")" "$(gz "$file")" "$br"
  done
  printf '%-34s %10s %10s %10d\n' total '' '' "$table_br"
}

# The modules' files (content-hashed names): the first load, then the UI modules fetched on demand.
one() { local found; found=$(ls $1 2>/dev/null | head -1); [ -n "$found" ] || { echo "make bench: no $1 (make build first)" >&2; exit 2; }; echo "$found"; }
part_table 'first load: the loader, the widget glue and wasm' \
  dist/public/fw.js "$(one 'dist/public/w/fw-widget-*.js')" "$(one 'dist/public/w/fw-widget-*.wasm')"
first_load=$table_br
part_table 'UI module (Leptos: the cards), fetched when a card is near (two thirds of the minimum dwell)' \
  "$(one 'dist/public/w/fw-ui-*.js')" "$(one 'dist/public/w/fw-ui-*.wasm')"
cards=$table_br
part_table 'chat chunk (split off the UI module, sharing its runtime), fetched when the chat opens' \
  "$(one 'dist/public/w/fw-chat-*.wasm')"
chat=$table_br

worker_wasm=edge-worker/build/index_bg.wasm
printf '\nworker bundle: index.js %d bytes, wasm %d bytes raw / %d gzip\n' \
  "$(stat -c %s edge-worker/build/index.js)" "$(stat -c %s $worker_wasm)" "$(gz $worker_wasm)"

# Main-thread cost in headless Chromium; the binary writes the blocking time the tag adds here.
tbt_file=target/bench-added-blocking-ms
rm -f "$tbt_file"
BENCH_ADDED_BLOCKING_FILE=$tbt_file cargo run -q --release -p floorwalker-e2e --bin floorwalker-bench
added_blocking=$(cat "$tbt_file")

# The four figures of issue 16, each against its goal. Blocking time is measured from long tasks in
# headless Chromium (Lighthouse's TBT definition: the part of each task over 50 ms), not by Lighthouse.
over=0
printf '\n%-62s %10s %10s %6s\n' 'issue 16: what a visit costs (brotli bytes; ms)' now goal ''
row() {
  local mark=ok
  if awk -v now="$2" -v goal="$3" 'BEGIN { exit !(now > goal) }'; then mark=OVER over=1; fi
  printf '%-62s %10s %10s %6s\n' "$1" "$2" "$3" "$mark"
}
row 'first load: fw.js + widget glue + wasm' "$first_load" 61440
row 'a visit that shows a card: first load + UI module' "$((first_load + cards))" 122880
row 'once the chat is open: first load + UI module + chat chunk' "$((first_load + cards + chat))" 174080
row 'main-thread blocking time added by the tag, ms (median)' "$added_blocking" 0
if [ "$over" -ne 0 ]; then
  echo "make bench: over budget (see OVER above)" >&2
  exit 1
fi
