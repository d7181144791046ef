#!/usr/bin/env bash
# Packs what the GPU checks (./run.sh) need on a machine that has a GPU but no Node.js and no network:
# this machine's Node binary, the node_modules the WebGPU tests, `bench:gpu` and `ssm-lab` load (tfjs, npm `webgpu`
# with only Dawn's linux-x64 binary, vitest, tsx), the built dist folders, the generated sources that git ignores
# (the tests and benches run from src/, and the device's copy of the tree leaves ignored files out), and Debian's
# Vulkan and GL loaders.
# Run from the repository root after `npm ci && npm run build`; writes build/gpu-check (ignored by git, ~45 MiB),
# which travels to the GPU machine with the working tree.
#   bash scripts/gpu-check/pack.sh
set -euo pipefail
DEST=build/gpu-check
rm -rf "$DEST" && mkdir -p "$DEST/gl"
[ -f packages/ssm-core/dist/index.js ] && [ -f packages/ssm-lab/dist/cli/main.js ] || { echo "build first: npm run build" >&2; exit 1; }
# The node_modules closure of the roots below: a package's dependencies, looked up beside it first (nested) and then
# at the top level, as Node does; a nested one travels inside its parent's folder.
ROOTS="vitest tsx @tensorflow/tfjs-core @tensorflow/tfjs-backend-cpu @tensorflow/tfjs-backend-wasm @tensorflow/tfjs-backend-webgpu webgpu ssm-core ssm-lab ssm-plot"
node --input-type=module -e '
import fs from "node:fs"; import path from "node:path";
const seen = new Set();
const walk = (name, from) => {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const p = path.join(dir, "node_modules", name);
    if (fs.existsSync(path.join(p, "package.json"))) {
      if (seen.has(p)) return;
      seen.add(p);
      const j = JSON.parse(fs.readFileSync(path.join(p, "package.json"), "utf8"));
      for (const d of Object.keys({ ...j.dependencies, ...j.optionalDependencies, ...j.peerDependencies })) walk(d, fs.realpathSync(p));
      return;
    }
    if (dir === path.dirname(dir)) return;
  }
};
for (const r of process.argv.slice(1)) walk(r, process.cwd());
const top = [...seen].map((p) => path.relative(process.cwd(), p)).filter((p) => p.startsWith("node_modules/") && !p.slice(13).includes("node_modules/"));
fs.writeFileSync("'"$DEST"'/modules.txt", top.sort().join("\n") + "\n");
' $ROOTS
# Browser bundles, minified copies, source maps and typings are never loaded in Node; Dawn only for linux-x64.
tar --exclude='node_modules/*.map' --exclude='*.min.js' --exclude='*.html' --exclude='node_modules/*.d.ts' --exclude='*.d.mts' --exclude='*.d.cts' \
  --exclude='*.tsbuildinfo' --exclude='tf.es2017.js' --exclude='tf*.fesm.js' --exclude='miniprogram' \
  --exclude='node_modules/webgpu/dist/darwin-*' --exclude='node_modules/webgpu/dist/win32-*' \
  --exclude='node_modules/webgpu/dist/linux-arm64' \
  -cf - $(cat "$DEST/modules.txt") node_modules/.bin/vitest node_modules/.bin/tsx packages/*/dist \
  $(git ls-files -o -i --exclude-standard packages/*/src) | xz -T0 -6 > "$DEST/modules.tar.xz"
xz -T0 -9 -c "$(command -v node)" > "$DEST/node.xz"
mkdir -p /tmp/amd64/partial
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
apt-get $o update >/dev/null
# the Vulkan loader, and glvnd, which the NVIDIA driver's Vulkan ICD (libGLX_nvidia) needs to load
(cd "$DEST/gl" && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2 >/dev/null)
du -sh --apparent-size "$DEST" "$DEST"/*
