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
