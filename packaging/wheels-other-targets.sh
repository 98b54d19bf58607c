#!/usr/bin/env bash
# Recipe: Python wheels for targets `cargo xtask package` cannot build here.
#
# NOT RUN by `cargo xtask test` or CI: each needs a Rust standard library for its target
# (`rustup target add`), which our build machines cannot install, or a different OS.
# `cargo xtask package` builds the Linux x86_64 wheels (manylinux2014) and the sdist; this
# script covers the rest. Run it from bindings/python (and again from bindings/emulator for
# the emulator wheel), with maturin, ziglang and auditwheel installed.
set -euo pipefail

case "${1:-}" in
  linux-aarch64)
    # Any Linux host: zig cross-links against glibc 2.17 symbols.
    rustup target add aarch64-unknown-linux-gnu
    # STRIP=false keeps the symbol table uniffi-bindgen reads (zig would drop it); strip
    # debug info from the wheel afterwards as `cargo xtask package` does.
    CARGO_PROFILE_RELEASE_STRIP=false maturin build --release --zig --compatibility manylinux2014 \
      --target aarch64-unknown-linux-gnu --out dist
    auditwheel show dist/*manylinux*aarch64*.whl ;;
  macos)
    # On macOS: one universal2 wheel for Intel and Apple silicon.
    rustup target add x86_64-apple-darwin aarch64-apple-darwin
    maturin build --release --target universal2-apple-darwin --out dist ;;
  windows)
    # On Windows with the MSVC toolchain.
    maturin build --release --out dist ;;
  *)
    echo "usage: $0 linux-aarch64 | macos | windows" >&2
    exit 2 ;;
esac
