#!/bin/sh
# The runtime image's own setup, after its packages are installed (deploy/runtime-packages.txt). Run as root inside
# the image's root filesystem by the Dockerfile, and by scripts/test-image inside its debootstrap root, so both
# give the same user, directories and permissions.
set -eu
# A fixed, non-root uid/gid (Kubernetes: runAsUser/runAsGroup/fsGroup 10001, runAsNonRoot).
groupadd --gid 10001 sfpg
useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin sfpg
# Job files are mounted here (a ConfigMap); SFPG_JOBS_DIR points sfpg at it.
install -d -m 0755 /etc/sfpg /etc/sfpg/jobs
# sfpg's spool for result pages (TMPDIR): a writable volume in production (emptyDir), since / is read-only.
install -d -o 10001 -g 10001 -m 0700 /var/spool/sfpg
# Nothing else needs to be writable; no setuid/setgid programs are needed at run time.
find / -xdev -perm /6000 -type f -exec chmod a-s {} + 2>/dev/null || true
