#!/bin/bash
# The entrypoint of each lab node (examples/subjects/swarm-lab.star): make
# /sys and the cgroup hierarchies writable, then run the node's own Docker
# engine in the foreground.
set -eu

# The outer engine mounts /sys read-only in every container, privileges or
# not. systempaths=unconfined only lifts the masks inside it.
mount -o remount,rw /sys

# Each cgroup v1 hierarchy is a separate bind mount of the node's own cgroup
# (cgroup: private), read-only as well. A plain `remount,rw` fails with
# "busy"; remounting the bind itself works. Without it every task fails with
# "mkdir /sys/fs/cgroup/cpuset/docker: read-only file system".
# (On cgroup v2 there is one hierarchy, the mount itself: untested.)
if [ -e /sys/fs/cgroup/cgroup.controllers ]; then
	mount -o remount,rw /sys/fs/cgroup
else
	for d in /sys/fs/cgroup/*/; do
		mount -o remount,bind,rw "$d"
	done
	# The tmpfs holding the hierarchies; not needed by dockerd on every kernel.
	mount -o remount,rw /sys/fs/cgroup 2>/dev/null || true
fi

# The engine's run-time state lives in the container's own /var/run. After a
# stop or a kill it is stale: dockerd would refuse to start ("pid file
# found") or trust the pid of a containerd that is gone. A restarted node
# starts clean; its images, containers and swarm state are on the volume.
rm -rf /var/run/docker.pid /var/run/docker.sock /var/run/docker

# TCP without TLS: the lab network is a private bridge on this machine and
# the harness and init talk to each node's engine over it. overlay2 works
# because /var/lib/docker is a named volume (ext4/xfs of the outer engine),
# not the container's own overlay root.
exec dockerd \
	--host=unix:///var/run/docker.sock \
	--host=tcp://0.0.0.0:2375 --tls=false \
	--storage-driver=overlay2 \
	--log-level=warn \
	"$@"
