#!/bin/sh
# Installs the Debian packages given as arguments that are not installed yet.
# Needs root for apt-get; without root it only names what is missing.
missing=""
for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "missing Debian packages:$missing (run as root, or: sudo apt-get install$missing)" >&2
    exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# etcd-server and nginx would start their own services on install (etcd on our port 2379):
# the tests start their own instances on other ports, so keep the package services down.
policy=/usr/sbin/policy-rc.d
own_policy=no
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && own_policy=yes
fi
rc=0
apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends $missing >/dev/null || rc=$?
[ "$own_policy" = yes ] && rm -f "$policy"
exit $rc
