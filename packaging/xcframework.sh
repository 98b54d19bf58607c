#!/usr/bin/env bash
# Recipe: MendianFFI.xcframework for iOS (device and simulator), used with the committed Swift
# package in bindings/swift.
#
# NOT RUN by `cargo xtask test` or CI: it needs macOS with Xcode and the Apple rustup targets,
# which our Linux build machines cannot have. Run it from the repository root on a Mac.
set -euo pipefail

OUT=build/xcframework
rustup target add aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios
rm -rf "$OUT" && mkdir -p "$OUT/sim"

for t in aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios; do
  cargo build --profile mobile -p mendian --lib --target "$t"
done
lipo -create \
  target/aarch64-apple-ios-sim/mobile/libmendian.a \
  target/x86_64-apple-ios/mobile/libmendian.a \
  -output "$OUT/sim/libmendian.a"

# The committed header and module map are what `cargo xtask bindings` generated from the same
# sources; check they are fresh first (`cargo xtask bindings --check` on any machine).
HEADERS=bindings/swift/Sources/MendianFFI/include
xcodebuild -create-xcframework \
  -library target/aarch64-apple-ios/mobile/libmendian.a -headers "$HEADERS" \
  -library "$OUT/sim/libmendian.a" -headers "$HEADERS" \
  -output "$OUT/MendianFFI.xcframework"
echo "built $OUT/MendianFFI.xcframework (point Package.swift's binaryTarget at it)"
