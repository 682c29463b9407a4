# Install helpers shared by scripts/setup-test-deps.sh and benches/send.sh.
# Source it after defining `say MESSAGE` and setting PYTHON. Works as root
# without sudo (CI), and uses sudo for apt-get only when run as another user.

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        say "need root (or sudo) to run: $*"
        exit 1
    fi
}

apt_updated=
apt_install() {
    if [ -z "$apt_updated" ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        apt_updated=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# pip_pin DIST VERSION MODULE: installs DIST==VERSION (with python3 and pip
# first, if missing) unless that version is there already, and fails here,
# not later, if MODULE does not import.
pip_pin() {
    local dist=$1 version=$2 module=$3
    if ! command -v "$PYTHON" >/dev/null 2>&1; then
        say "installing python3"
        apt_install python3 python3-pip
    fi
    if "$PYTHON" -c 'import importlib.metadata as m, sys; sys.exit(m.version(sys.argv[1]) not in (sys.argv[2], sys.argv[2] + ".0"))' \
        "$dist" "$version" 2>/dev/null; then
        return
    fi
    if ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
        say "installing pip"
        apt_install python3-pip
    fi
    say "installing $dist==$version"
    local pip=(env PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
        "$PYTHON" -m pip install --quiet "$dist==$version")
    # Debian's own python3 refuses pip installs (PEP 668, "externally managed
    # environment"); we only need the package importable, so allow it.
    "${pip[@]}" 2>/dev/null || "${pip[@]}" --break-system-packages
    "$PYTHON" -c "import $module"
}
