package local

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/opdeploy/opdeploy/target"
)

// lockProject serializes opdeploy processes that change the same project
// on this machine: a second `up` waits for the first (saying so) instead of
// racing it. The lock is an flock on a file per project, released by the
// kernel if the holder dies, so a crash never leaves it stuck.
//
// The file lives in a directory only this user can write to (lockDir), is
// opened relative to that directory without following symlinks, and is
// never truncated: the holder's pid is written at a fixed width over
// whatever was there, so nothing outside the directory can be made to
// lose data by planting a link.
func lockProject(ctx context.Context, project string, progress target.Progress) (unlock func(), err error) {
	return lockFile(ctx, project+".lock", target.ProjectNamed(project), "is changing project "+project, progress)
}

// lockImage serializes the builds of one binary image tag by opdeploy
// processes on this machine, whatever their projects: two that built it at
// once would each import it, and the first image would be left dangling.
// The file's name holds a '.', which no project name does.
func lockImage(ctx context.Context, tag string, progress target.Progress) (unlock func(), err error) {
	sum := sha256.Sum256([]byte(tag))
	return lockFile(ctx, "image."+hex.EncodeToString(sum[:8])+".lock", target.Image(tag), "is building image "+tag, progress)
}

// lockFile takes the lock file name in the lock directory, announcing on
// resource, once, that another opdeploy holds it and what it is doing.
func lockFile(ctx context.Context, name string, resource target.Resource, doing string, progress target.Progress) (unlock func(), err error) {
	dir, err := lockDir()
	if err != nil {
		return nil, err
	}
	f, err := openLockFile(dir, name)
	dir.Close()
	if err != nil {
		return nil, err
	}
	announced := false
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
		}
		if !announced {
			detail := "another opdeploy " + doing
			if pid := readHolder(f); pid != "" {
				detail = fmt.Sprintf("another opdeploy (pid %s) %s", pid, doing)
			}
			progress.Event(target.ProgressEvent{
				Time: time.Now(), Resource: resource, Action: target.ActionWaiting, Detail: detail,
			})
			announced = true
		}
		// flock(2) cannot be interrupted by a context, so the wait is a
		// short retry loop; it only runs while another process holds the lock.
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for the lock of %s, held by another opdeploy: %w", resource, context.Cause(ctx))
		case <-time.After(50 * time.Millisecond):
		}
	}
	writeHolder(f, strconv.Itoa(os.Getpid()))
	return func() {
		writeHolder(f, "")
		_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
		f.Close()
	}, nil
}

// holderWidth is the width the holder's pid is written at: every write
// covers the same bytes, so the file never needs truncating. Linux pids
// have at most 7 digits; 10 fits any 32-bit pid.
const holderWidth = 10

// writeHolder records pid (or, with "", no holder) in the lock file. It is
// informative only: the flock is the lock.
func writeHolder(f *os.File, pid string) {
	_, _ = f.WriteAt(fmt.Appendf(nil, "%*s\n", holderWidth, pid), 0)
}

// readHolder returns the pid the holder wrote, or "" if there is none (it
// may not have written it yet).
func readHolder(f *os.File) string {
	buf := make([]byte, holderWidth+1)
	n, _ := f.ReadAt(buf, 0)
	line, _, _ := strings.Cut(string(buf[:n]), "\n")
	pid := strings.TrimSpace(line)
	if _, err := strconv.Atoi(pid); err != nil {
		return ""
	}
	return pid
}

// lockDir opens the directory for lock files: $XDG_RUNTIME_DIR/opdeploy
// when the runtime directory is one only this user can write to, else
// $TMPDIR/opdeploy-<uid>. It is made if absent and refused unless it is a
// real directory of this user's that nobody else can write to: in a shared
// /tmp, anyone could have made it first.
func lockDir() (*os.File, error) {
	if rt := os.Getenv("XDG_RUNTIME_DIR"); privateRuntimeDir(rt) {
		return openPrivateDir(filepath.Join(rt, "opdeploy"))
	}
	return openPrivateDir(filepath.Join(os.TempDir(), fmt.Sprintf("opdeploy-%d", os.Getuid())))
}

// privateRuntimeDir reports whether XDG_RUNTIME_DIR names a directory that
// is this user's and not writable by others, as the XDG spec requires. One
// that is not is ignored, as the spec asks, rather than refused.
func privateRuntimeDir(path string) bool {
	if path == "" || !filepath.IsAbs(path) {
		return false
	}
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return false
	}
	return st.Mode&unix.S_IFMT == unix.S_IFDIR && privateDirProblem(&st) == ""
}

// openPrivateDir opens path as a directory, making it (mode 0700) if it
// does not exist, and refuses it unless only this user can write in it.
// The checks are made on the opened directory, so it cannot be swapped
// between checking and using it.
func openPrivateDir(path string) (*os.File, error) {
	open := func() (int, error) {
		return unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	}
	fd, err := open()
	if errors.Is(err, unix.ENOENT) {
		if err := unix.Mkdir(path, 0o700); err != nil && !errors.Is(err, unix.EEXIST) {
			return nil, fmt.Errorf("lock directory %s: %w", path, err)
		}
		fd, err = open()
	}
	if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
		// Linux answers ENOTDIR for a symlink opened with O_DIRECTORY
		// and O_NOFOLLOW; say which it is.
		problem := "is not a directory"
		if st, lerr := os.Lstat(path); lerr == nil && st.Mode()&os.ModeSymlink != 0 {
			problem = "is a symbolic link"
		}
		return nil, unsafeLockPath("directory", path, problem)
	}
	if err != nil {
		return nil, fmt.Errorf("lock directory %s: %w", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("lock directory %s: %w", path, err)
	}
	if problem := privateDirProblem(&st); problem != "" {
		unix.Close(fd)
		return nil, unsafeLockPath("directory", path, problem)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// privateDirProblem says why a directory is not private to this user, or
// "" if it is.
func privateDirProblem(st *unix.Stat_t) string {
	if euid := os.Geteuid(); int(st.Uid) != euid {
		return fmt.Sprintf("is owned by uid %d, not by uid %d", st.Uid, euid)
	}
	if st.Mode&0o022 != 0 {
		return fmt.Sprintf("is writable by others (mode %04o)", st.Mode&0o7777)
	}
	return ""
}

// openLockFile opens (making it if needed) the lock file name in dir,
// never through a symlink, and refuses anything but a regular file of this
// user's with a single link, before anything is written to it.
func openLockFile(dir *os.File, name string) (*os.File, error) {
	path := filepath.Join(dir.Name(), name)
	fd, err := unix.Openat(int(dir.Fd()), name, unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if errors.Is(err, unix.ELOOP) {
		return nil, unsafeLockPath("file", path, "is a symbolic link")
	}
	if err != nil {
		return nil, fmt.Errorf("lock file %s: %w", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("lock file %s: %w", path, err)
	}
	problem := ""
	switch euid := os.Geteuid(); {
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		problem = "is not a regular file"
	case int(st.Uid) != euid:
		problem = fmt.Sprintf("is owned by uid %d, not by uid %d", st.Uid, euid)
	case st.Nlink != 1:
		problem = fmt.Sprintf("has %d hard links", st.Nlink)
	}
	if problem != "" {
		unix.Close(fd)
		return nil, unsafeLockPath("file", path, problem)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// unsafeLockPath is the error for a lock directory or file opdeploy will
// not use. Someone else may have put it there, so the message says how to
// recover rather than working around it.
func unsafeLockPath(kind, path, problem string) error {
	return fmt.Errorf("lock %s %s %s: opdeploy keeps its locks only where no one else can write; remove it (opdeploy makes it again) or set TMPDIR to a directory of your own", kind, path, problem)
}
