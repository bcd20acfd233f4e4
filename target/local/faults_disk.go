package local

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/moby/moby/client"
	"golang.org/x/sys/unix"

	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// fill_disk works from opdeploy's own process: the local target's engine
// runs on this machine (exec timeouts already rely on that), so the
// container's filesystem is reachable under /proc/<pid>/root. Paths are
// resolved inside the container's root (openat2 RESOLVE_IN_ROOT), so a
// symbolic link in the container cannot lead to the host's files.

// fillerName is the file a fill_disk fault creates in the folder.
func fillerName(id string) string { return ".opdeploy-fill-" + id }

// openInContainer opens a folder of a running container's filesystem.
func openInContainer(pid int, dir string) (int, error) {
	root, err := unix.Open(fmt.Sprintf("/proc/%d/root", pid), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("the container's filesystem: %w", err)
	}
	defer unix.Close(root)
	fd, err := unix.Openat2(root, strings.TrimPrefix(dir, "/"), &unix.OpenHow{Flags: unix.O_RDONLY | unix.O_DIRECTORY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT})
	if err != nil {
		return -1, fmt.Errorf("%s in the container: %w", dir, err)
	}
	return fd, nil
}

// fillDisk fills the filesystem holding dir until leave bytes are free,
// with one file, and returns its path in the container and its size.
// Free space counts the blocks reserved for root: the target may well run
// as root.
func fillDisk(ctx context.Context, pid int, dir string, leave uint64, id string) (string, uint64, error) {
	fd, err := openInContainer(pid, dir)
	if err != nil {
		return "", 0, err
	}
	defer unix.Close(fd)
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil {
		return "", 0, err
	}
	if err := refuseHostDisk(fd, dir); err != nil {
		return "", 0, err
	}
	free := st.Bfree * uint64(st.Bsize)
	if free <= leave {
		return "", 0, fmt.Errorf("the filesystem holding %s has %d bytes free, not more than leave = %d", dir, free, leave)
	}
	size := free - leave
	name := fillerName(id)
	f, err := unix.Openat(fd, name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return "", 0, fmt.Errorf("create %s: %w", path.Join(dir, name), err)
	}
	defer unix.Close(f)
	err = unix.Fallocate(f, 0, 0, int64(size))
	if errors.Is(err, unix.EOPNOTSUPP) {
		err = writeZeros(ctx, f, size) // a filesystem without fallocate
	}
	if err != nil {
		_ = unix.Unlinkat(fd, name, 0)
		return "", 0, fmt.Errorf("fill %s with %d bytes: %w", dir, size, err)
	}
	return path.Join(dir, name), size, nil
}

func writeZeros(ctx context.Context, f int, size uint64) error {
	buf := make([]byte, 1<<20)
	for written := uint64(0); written < size; {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := min(uint64(len(buf)), size-written)
		w, err := unix.Write(f, buf[:n])
		if err != nil {
			return err
		}
		written += uint64(w)
	}
	return nil
}

// removeFiller deletes the filler through the running container, or,
// when it is stopped, through the host folder of the mount that holds it.
func removeFiller(pid int, running bool, filler, hostPath string) error {
	if running {
		fd, err := openInContainer(pid, path.Dir(filler))
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		if err := unix.Unlinkat(fd, path.Base(filler), 0); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("remove %s: %w", filler, err)
		}
		return nil
	}
	if hostPath == "" {
		return fmt.Errorf("%s remains: the container is not running and the file is not on a volume or bind mount opdeploy can reach; start the container and heal again", filler)
	}
	if err := unix.Unlink(hostPath); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("remove %s (%s on the host): %w", filler, hostPath, err)
	}
	return nil
}

// fillerExists reports whether a running container's filler is there.
func fillerExists(pid int, filler string) bool {
	fd, err := openInContainer(pid, path.Dir(filler))
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	return unix.Fstatat(fd, path.Base(filler), &st, unix.AT_SYMLINK_NOFOLLOW) == nil
}

// hostPathOf finds where a container path lives on the host when it is on
// a volume or bind mount (the longest mount destination that holds it).
func hostPathOf(mounts []mountPoint, p string) string {
	best := -1
	for i, m := range mounts {
		if m.Destination == p || strings.HasPrefix(p, strings.TrimSuffix(m.Destination, "/")+"/") {
			if best < 0 || len(m.Destination) > len(mounts[best].Destination) {
				best = i
			}
		}
	}
	if best < 0 || mounts[best].Source == "" {
		return ""
	}
	return path.Join(mounts[best].Source, strings.TrimPrefix(p, mounts[best].Destination))
}

type mountPoint struct{ Source, Destination string }

// refuseHostDisk refuses to fill the filesystem this machine runs on, or
// the engine's: a named volume or a container's own files are usually
// there, and filling them would fill the machine (and stop the engine),
// not only the service. Such a service needs a filesystem of its own: a
// tmpfs, or a volume on another disk.
func refuseHostDisk(fd int, dir string) error {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	for _, host := range []string{"/", "/var/lib/docker"} {
		var hs unix.Stat_t
		if unix.Stat(host, &hs) == nil && hs.Dev == st.Dev {
			return fmt.Errorf("%s is on the machine's own filesystem (the one holding %s): filling it would fill the machine; give the service a filesystem of its own (a tmpfs, or a volume on another disk)", dir, host)
		}
	}
	return nil
}

// removeFillerOf removes a full disk's filler: through the target when it
// runs, else through the holder that keeps the target's volumes mounted.
func (d *Deployment) removeFillerOf(ctx context.Context, cli dockerapi.API, r faultRecord, t targetNow) error {
	switch {
	case t.Running:
		return removeFiller(t.Pid, true, r.Path, "")
	case r.Running:
		res, err := cli.ContainerInspect(ctx, r.RecordID, client.ContainerInspectOptions{})
		if err != nil {
			return err
		}
		if r.HostPath == "" {
			return fmt.Errorf("%s remains: %s is not running and the file is not on a volume; start it and heal again", r.Path, r.Container)
		}
		return removeFiller(res.Container.State.Pid, true, r.Path, "")
	case !t.Exists:
		return nil
	}
	return removeFiller(0, false, r.Path, r.HostPath)
}
