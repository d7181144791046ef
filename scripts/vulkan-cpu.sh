#!/usr/bin/env bash
# A CPU Vulkan driver for WebGPU tests without a GPU: Mesa 25's lavapipe from Debian bookworm-backports,
# unpacked into build/vulkan (or $1) and used through VK_DRIVER_FILES. Debian 12's own lavapipe (Mesa 22.3) is
# refused by Dawn ("Vulkan shaderUniform*ArrayDynamicIndexing required"); Mesa 25.0 works.
#
#   export "$(scripts/vulkan-cpu.sh)"        # prints VK_DRIVER_FILES=<abs path>/lvp_icd.json on stdout
#
# Runs as root (or with sudo) on Debian 12. The system's apt sources are left as they are: backports are read
# through a private sources list and lists directory under the destination; only the unpacked package is used
# (dpkg -x, nothing is installed from backports). Installed with apt from the system's own sources: libvulkan1
# (the Vulkan loader Dawn opens) and whatever libvulkan_lvp.so links to that is missing (checked with ldd).
# A second run reuses the unpacked driver.
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=$(realpath -m "${1:-build/vulkan}")
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
SUDO=$([ "$(id -u)" -eq 0 ] || echo sudo)
log() { echo "vulkan-cpu: $*" >&2; }
t0=$(date +%s)

ICD="$DEST/lvp_icd.json"
LIB=$(find "$DEST/root" -name libvulkan_lvp.so 2>/dev/null | head -n1 || true)
if [ -z "$LIB" ]; then
  APT="$DEST/apt"
  mkdir -p "$APT/lists/partial" "$DEST/root"
  echo "deb [signed-by=$KEYRING] $MIRROR bookworm-backports main" >"$APT/sources.list"
  APT_OPTS=(-o "Dir::Etc::SourceList=$APT/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$APT/lists" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
    -o APT::Sandbox::User=root)
  log "reading bookworm-backports into a private lists directory ($APT/lists)"
  apt-get "${APT_OPTS[@]}" -qq update
  log "downloading mesa-vulkan-drivers/bookworm-backports"
  (cd "$APT" && rm -f mesa-vulkan-drivers_*.deb && apt-get "${APT_OPTS[@]}" -qq download mesa-vulkan-drivers/bookworm-backports)
  DEB=$(ls "$APT"/mesa-vulkan-drivers_*.deb)
  log "unpacking $(basename "$DEB")"
  dpkg -x "$DEB" "$DEST/root"
  LIB=$(find "$DEST/root" -name libvulkan_lvp.so | head -n1)
  [ -n "$LIB" ] || { log "no libvulkan_lvp.so in $DEB"; exit 1; }
fi

# The ICD manifest with an absolute library_path (the packaged one names the library relative to the system's
# library path, where Debian's older lavapipe lives).
API=$(sed -n 's/.*"api_version": *"\([^"]*\)".*/\1/p' "$(find "$DEST/root" -name 'lvp_icd*.json' | head -n1)")
cat >"$ICD" <<EOF
{
    "file_format_version": "1.0.0",
    "ICD": { "library_path": "$LIB", "api_version": "${API:-1.4.0}" }
}
EOF

# Debian 12 package of each shared library libvulkan_lvp.so (Mesa 25.0) links to.
declare -A PKG=(
  [libLLVM-15.so.1]=libllvm15 [libz.so.1]=zlib1g [libzstd.so.1]=libzstd1 [libdrm.so.2]=libdrm2
  [libexpat.so.1]=libexpat1 [libxcb.so.1]=libxcb1 [libxcb-randr.so.0]=libxcb-randr0 [libX11-xcb.so.1]=libx11-xcb1
  [libxcb-dri3.so.0]=libxcb-dri3-0 [libxcb-present.so.0]=libxcb-present0 [libxcb-xfixes.so.0]=libxcb-xfixes0
  [libxcb-sync.so.1]=libxcb-sync1 [libxcb-shm.so.0]=libxcb-shm0 [libxshmfence.so.1]=libxshmfence1
  [libwayland-client.so.0]=libwayland-client0 [libstdc++.so.6]=libstdc++6 [libgcc_s.so.1]=libgcc-s1
  [libffi.so.8]=libffi8 [libedit.so.2]=libedit2 [libz3.so.4]=libz3-4 [libtinfo.so.6]=libtinfo6
  [libxml2.so.2]=libxml2 [libXau.so.6]=libxau6 [libXdmcp.so.6]=libxdmcp6 [libbsd.so.0]=libbsd0
  [libicuuc.so.72]=libicu72 [libicudata.so.72]=libicu72 [liblzma.so.5]=liblzma5 [libmd.so.0]=libmd0
)
need=()
[ -e /usr/lib/x86_64-linux-gnu/libvulkan.so.1 ] || [ -e /usr/lib/aarch64-linux-gnu/libvulkan.so.1 ] || need+=(libvulkan1)
for lib in $(ldd "$LIB" | awk '/not found/ {print $1}'); do
  [ -n "${PKG[$lib]:-}" ] || { log "libvulkan_lvp.so needs $lib, which no known Debian 12 package provides"; exit 1; }
  need+=("${PKG[$lib]}")
done
if [ ${#need[@]} -gt 0 ]; then
  log "installing from the system's apt sources: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
missing=$(ldd "$LIB" | awk '/not found/ {print $1}')
[ -z "$missing" ] || { log "still missing after install: $missing"; exit 1; }
log "lavapipe ready in $(($(date +%s) - t0)) s: $LIB"
echo "VK_DRIVER_FILES=$ICD"
