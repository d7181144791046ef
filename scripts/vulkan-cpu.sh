#!/usr/bin/env bash
# A CPU Vulkan driver for WebGPU tests without a GPU: Mesa 25's lavapipe from Debian bookworm-backports,
# unpacked into build/vulkan (or $1) and used through VK_DRIVER_FILES. Debian 12's own lavapipe (Mesa 22.3) is
# refused by Dawn ("Vulkan shaderUniform*ArrayDynamicIndexing required"); Mesa 25.0 works.
#
#   export "$(scripts/vulkan-cpu.sh)"        # prints VK_DRIVER_FILES=<abs path>/lvp_icd.json on stdout
#
# Runs as root (or with sudo) on Debian 12. The system's apt sources are left as they are: backports are read
# through a private sources list and lists directory under the destination; only the unpacked package is used
# (dpkg -x, nothing is installed from backports). Installed with apt from the system's own sources: the
# package's declared dependencies that are missing (libvulkan1, the Vulkan loader Dawn opens, among them).
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

# The driver's dependencies as its package declares them (versions dropped: the loader only needs the sonames,
# which Debian 12's main provides), installed from the system's own sources where missing; apt brings theirs.
need=()
for pkg in $(dpkg-deb -f "$(ls "$DEST"/apt/mesa-vulkan-drivers_*.deb)" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*)//' | tr -d ' '); do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
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
