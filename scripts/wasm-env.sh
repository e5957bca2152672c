# Sourced by the wasm build scripts: chooses the toolchain route that scripts/setup.sh found.
# Ordinary route: rustup's wasm32-unknown-unknown std. Fallback: Debian's rustc-web and cargo with
# build-std; they must come before rustup's proxies on PATH (cargo-installed tools stay reachable).
if [ -f target/.wasm-route ] && [ "$(cat target/.wasm-route)" = "build-std" ]; then
  export PATH="/usr/bin:$PATH:${CARGO_HOME:-$HOME/.cargo}/bin"
  export RUSTC=/usr/bin/rustc
  export RUSTC_BOOTSTRAP=1
  export CARGO_UNSTABLE_BUILD_STD="std,panic_abort"
else
  export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
fi
export PATH="$PATH:$PWD/node_modules/.bin"

# The widget is downloaded by every visitor, so it is built smaller than the other wasm crates:
# std rebuilt with `optimize_for_size`, and panics compiled to a bare trap (`immediate-abort`: no
# message formatting, no locations). A trap surfaces as an exception at the wasm boundary, which
# the loader and the widget's JS entry points already catch. Build-std is unstable, hence
# RUSTC_BOOTSTRAP; its own target dir keeps these flags from invalidating the other wasm builds.
# Usage: wasm_size_build <package> [cargo arguments, e.g. features] — prints the path of the built .wasm.
# WASM_EMIT_RELOCS=1 links the module with its relocations, which wasm-split-cli needs; the flag
# goes to the final crate alone (`cargo rustc`), so the dependencies' builds are shared.
wasm_size_build() {
  local package=$1 crate=${1//-/_} size_dir=target/wasm-size command=(build) link=()
  shift
  if [ -n "${WASM_EMIT_RELOCS:-}" ]; then command=(rustc --lib) link=(-- -Clink-arg=--emit-relocs); fi
  # Build-std needs std's source; without it (rustup without rust-src) the ordinary build is used.
  # A failing size build is a failure: a compile error would fail the ordinary build just the same.
  if [ -d "$(rustc --print sysroot)/lib/rustlib/src/rust/library/std" ]; then
    RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=$size_dir \
      RUSTFLAGS="-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none -Zfmt-debug=none" \
      cargo "${command[@]}" --release --target wasm32-unknown-unknown -p "$package" "$@" \
        -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size "${link[@]}" >&2 || return 1
    echo "$size_dir/wasm32-unknown-unknown/release/$crate.wasm"
  else
    echo "warning: no std source for build-std; building $package the ordinary way (~9 % larger)" >&2
    cargo "${command[@]}" --release --target wasm32-unknown-unknown -p "$package" "$@" "${link[@]}" >&2 || return 1
    echo "target/wasm32-unknown-unknown/release/$crate.wasm"
  fi
}
