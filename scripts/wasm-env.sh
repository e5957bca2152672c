# Sourced by the wasm build scripts: chooses the toolchain route that scripts/setup.sh found.
# Ordinary route: rustup's wasm32-unknown-unknown std. Fallback: Debian's rustc-web with build-std.
if [ -f target/.wasm-route ] && [ "$(cat target/.wasm-route)" = "build-std" ]; then
  export PATH="/usr/bin:$PATH"
  export RUSTC=/usr/bin/rustc
  export RUSTC_BOOTSTRAP=1
  export CARGO_UNSTABLE_BUILD_STD="std,panic_abort"
fi
export PATH="$HOME/.cargo/bin:$PATH:$PWD/node_modules/.bin"
