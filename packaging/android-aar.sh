#!/usr/bin/env bash
# Recipe: an Android AAR of mendian (Kotlin bindings + libmendian.so for each ABI).
#
# NOT RUN by `cargo xtask test` or CI: our build machines have no Android NDK and cannot add
# rustup targets. It is written down so a machine that has them can build the AAR; run it
# from the repository root. Needs: the Android NDK (ANDROID_NDK_HOME), cargo-ndk
# (`cargo install cargo-ndk`), the rustup targets below, kotlinc, and the JNA and
# kotlinx-coroutines jars on KOTLIN_CLASSPATH (the app then depends on
# net.java.dev.jna:jna:<version>@aar and kotlinx-coroutines-android).
set -euo pipefail

ABIS=(arm64-v8a armeabi-v7a x86_64)
OUT=build/aar
rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android
rm -rf "$OUT" && mkdir -p "$OUT/jni" "$OUT/kotlin" "$OUT/classes"

# Mobile profile, default features (no Redis store, no command line): see Cargo.toml.
args=()
for abi in "${ABIS[@]}"; do args+=(-t "$abi"); done
cargo ndk "${args[@]}" -o "$OUT/jni" build --profile mobile -p mendian --lib

# Bindings from one of the built libraries (the mobile profile keeps the symbol table that
# uniffi-bindgen reads; every ABI carries the same metadata).
cargo run -q -p uniffi-bindgen -- generate --no-format --language kotlin \
  --out-dir "$OUT/kotlin" "$OUT/jni/arm64-v8a/libmendian.so"
# Then strip what the app does not need.
for abi in "${ABIS[@]}"; do
  "$ANDROID_NDK_HOME"/toolchains/llvm/prebuilt/*/bin/llvm-strip --strip-unneeded "$OUT/jni/$abi/libmendian.so"
done

kotlinc -nowarn -jvm-target 17 -cp "$KOTLIN_CLASSPATH" -d "$OUT/classes" $(find "$OUT/kotlin" -name '*.kt')
(cd "$OUT/classes" && jar --create --file ../classes.jar .)

cat > "$OUT/AndroidManifest.xml" <<'XML'
<?xml version="1.0" encoding="utf-8"?>
<manifest xmlns:android="http://schemas.android.com/apk/res/android" package="mendian">
    <uses-permission android:name="android.permission.INTERNET" />
</manifest>
XML
: > "$OUT/R.txt"
(cd "$OUT" && rm -f mendian.aar && zip -qr mendian.aar AndroidManifest.xml R.txt classes.jar jni)
echo "built $OUT/mendian.aar"
