#!/usr/bin/env bash
# The LDAP source (issue 12) uses python-ldap, which PyPI ships as source only: building it needs
# OpenLDAP's and Cyrus SASL's headers. Its tests run against throwaway directory servers from
# Debian's packages: OpenLDAP's slapd (with ldap-utils) and Samba's AD DC. None of them is
# started as a system service: the tests start their own, in temporary directories, on free
# ports. Install what is missing (as root), or say what to install.
set -euo pipefail
packages=(libldap2-dev libsasl2-dev slapd ldap-utils samba samba-ad-provision samba-dsdb-modules samba-vfs-modules)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's ${missing[*]} for the LDAP source and its test servers" >&2
  apt-get update -qq
  # No package may start its system service (slapd, smbd, nmbd, samba-ad-dc): the tests run
  # their own. policy-rc.d answers 101 ("not allowed") to every service start during the install.
  policy=/usr/sbin/policy-rc.d
  backup=""
  if [ -e "$policy" ]; then backup=$(mktemp); cp -p "$policy" "$backup"; fi
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  status=0
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || status=$?
  if [ -n "$backup" ]; then mv "$backup" "$policy"; else rm -f "$policy"; fi
  exit $status
fi
echo "enlist needs Debian's ${missing[*]}: sudo apt-get install ${missing[*]}" >&2
exit 1
