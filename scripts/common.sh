# Shared by the scripts: sourced, never run. Moves to the workspace root and defines the helpers below.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# install_missing PACKAGE... : installs the Debian packages given (with sudo unless root), after one
# `apt-get update`; callers pass only those they found missing.
install_missing() {
  [ $# -gt 0 ] || return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}

# need_command COMMAND [PACKAGE] : installs PACKAGE (COMMAND's name by default) when COMMAND is missing.
need_command() {
  command -v "$1" >/dev/null || install_missing "${2:-$1}"
}

# The workspace's target directory, wherever CARGO_TARGET_DIR or the configuration puts it.
target_dir() {
  cargo metadata --no-deps --format-version 1 | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])'
}
