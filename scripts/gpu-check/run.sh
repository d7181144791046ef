#!/usr/bin/env bash
# The GPU checks, on a machine with a GPU but without Node.js or network, from the folder that ./pack.sh wrote
# (build/gpu-check, travelling with the working tree). Run from the repository root:
#   bash scripts/gpu-check/run.sh [STEP ...]        (default: every step, in this order)
# Steps: info (the backend ssm-core picks by itself), webgpu (npm run test:webgpu), bench (npm run bench:gpu),
# table1 (ssm-lab reproduce table1 --preset quick --backend webgpu). Each step runs under its own time limit
# (GPU_CHECK_LIMIT_<STEP> seconds); logs go to $OUT.
set -u
PACK=build/gpu-check
OUT="${OUT:-/tmp/gpu-check-out}"
W=/tmp/gpu-check-work
STEPS="${*:-info webgpu bench table1}"
mkdir -p "$OUT" "$W/bin"
T0=$(date +%s)

unxz_to() {  # xz, else Python's lzma
  if command -v xz >/dev/null 2>&1; then xz -dc "$1" >"$2"
  else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"), 1 << 20)' "$1" "$2"; fi
}

setup() {
  [ -x "$W/bin/node" ] || { unxz_to "$PACK/node.xz" "$W/bin/node" && chmod +x "$W/bin/node"; }
  # unpacked on every run (a few seconds): a warm machine keeps an earlier run's node_modules, which may be older
  if command -v xz >/dev/null 2>&1; then tar -xJf "$PACK/modules.tar.xz"
  else unxz_to "$PACK/modules.tar.xz" "$W/modules.tar" && tar -xf "$W/modules.tar" && rm "$W/modules.tar"; fi
  if ! ldconfig -p | grep -q 'libGLdispatch\.so\.0' || ! ldconfig -p | grep -q 'libvulkan\.so\.1'; then
    for f in "$PACK"/gl/*.deb; do dpkg -x "$f" / || echo "unpacking $f failed"; done
    ldconfig
  fi
  ldconfig -p | grep -E 'libvulkan\.so|libGLX_nvidia|libGLdispatch' || true
  ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/nvidia/share/vulkan/icd.d 2>/dev/null
  echo "node $(node --version), VK_DRIVER_FILES=${VK_DRIVER_FILES:-}, $(nproc) cores"
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used --format=csv,noheader
}

# step NAME DEFAULT_LIMIT CMD...: runs CMD under its limit, output to the console and $OUT/NAME.log
step() {
  local name=$1 def=$2
  shift 2
  local var="GPU_CHECK_LIMIT_${name^^}" t0
  local lim=${!var:-$def}
  echo; echo "### $name (limit ${lim}s, at $(($(date +%s) - T0))s)"
  t0=$(date +%s.%N)
  set -o pipefail
  timeout -k 5 "$lim" "$@" 2>&1 | tee "$OUT/$name.log"
  local rc=$?
  echo "### $name: rc=$rc in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"
}

export PATH="$W/bin:$PATH" XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
# the NVIDIA driver's own Vulkan ICD when none is in the loader's standard folders
nv=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$nv" ]; then
  export VK_DRIVER_FILES=$nv __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
fi
setup 2>&1 | tee "$OUT/setup.log"
case "$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null)" in
  *H200*) export BENCH_BANDWIDTH_GBS=${BENCH_BANDWIDTH_GBS:-4800} ;;
  *H100*) export BENCH_BANDWIDTH_GBS=${BENCH_BANDWIDTH_GBS:-3350} ;;
esac
for s in $STEPS; do
  case $s in
    info) SSM_BACKEND= step info 60 node --input-type=module \
      -e 'const m = await import("./packages/ssm-core/dist/index.js"); console.log(JSON.stringify(await m.ready(), null, 1));' ;;
    webgpu) step webgpu 120 node node_modules/vitest/vitest.mjs run -c vitest.webgpu.config.ts ;;
    bench) step bench 300 node node_modules/tsx/dist/cli.mjs packages/ssm-core/bench/gpu.bench.ts ;;
    table1) step table1 150 node packages/ssm-lab/bin/ssm-lab.js reproduce table1 --preset quick --backend webgpu --out "$OUT/table1.json" ;;
    *) echo "unknown step $s" ;;
  esac
done
echo "### done in $(($(date +%s) - T0)) s"
