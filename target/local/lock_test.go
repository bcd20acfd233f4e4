package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/opdeploy/opdeploy/target"
)

// lockEnv points the lock at a fresh TMPDIR with no XDG_RUNTIME_DIR, so
// tests never touch the real /tmp/opdeploy-<uid>, and returns the lock
// directory opdeploy will use there.
func lockEnv(t *testing.T) (tmp, dir string) {
	t.Helper()
	tmp = t.TempDir()
	t.Setenv("TMPDIR", tmp)
	t.Setenv("XDG_RUNTIME_DIR", "")
	return tmp, filepath.Join(tmp, fmt.Sprintf("opdeploy-%d", os.Getuid()))
}

func mustLock(t *testing.T, project string) func() {
	t.Helper()
	unlock, err := lockProject(context.Background(), project, target.NoProgress)
	if err != nil {
		t.Fatal(err)
	}
	return unlock
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown to another uid")
	}
}

func TestLockRefusesSymlinkedLockFile(t *testing.T) {
	tmp, dir := lockEnv(t)
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(tmp, "victim")
	if err := os.WriteFile(victim, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, filepath.Join(dir, "p.lock")); err != nil {
		t.Fatal(err)
	}

	_, err := lockProject(context.Background(), "p", target.NoProgress)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "p.lock")+" is a symbolic link") {
		t.Fatalf("err = %v, want the lock file refused as a symbolic link", err)
	}
	if got, _ := os.ReadFile(victim); string(got) != "precious\n" {
		t.Errorf("the link's target was changed to %q", got)
	}
}

func TestLockRefusesUnsafeDirectory(t *testing.T) {
	for _, tc := range []struct {
		name    string
		root    bool
		prepare func(t *testing.T, tmp, dir string)
		want    string
	}{
		{"symlink", false, func(t *testing.T, tmp, dir string) {
			real := filepath.Join(tmp, "elsewhere")
			mkdir(t, real, 0o700)
			symlink(t, real, dir)
		}, "is a symbolic link"},
		{"group-writable", false, func(t *testing.T, _, dir string) { mkdir(t, dir, 0o770) }, "is writable by others (mode 0770)"},
		{"world-writable", false, func(t *testing.T, _, dir string) { mkdir(t, dir, os.ModeSticky|0o777) }, "is writable by others (mode 1777)"},
		{"another owner", true, func(t *testing.T, _, dir string) {
			mkdir(t, dir, 0o700)
			chown(t, dir, 65534)
		}, fmt.Sprintf("is owned by uid 65534, not by uid %d", os.Geteuid())},
		{"not a directory", false, func(t *testing.T, _, dir string) {
			if err := os.WriteFile(dir, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "is not a directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.root {
				requireRoot(t)
			}
			tmp, dir := lockEnv(t)
			tc.prepare(t, tmp, dir)

			_, err := lockProject(context.Background(), "p", target.NoProgress)
			if err == nil || !strings.Contains(err.Error(), "lock directory "+dir+" "+tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if _, err := os.Lstat(filepath.Join(dir, "p.lock")); !errors.Is(err, os.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
				t.Errorf("a lock file was made in the refused directory (%v)", err)
			}
			if _, err := os.Lstat(filepath.Join(tmp, "elsewhere", "p.lock")); err == nil {
				t.Error("a lock file was made through the symlink")
			}
		})
	}
}

func TestLockRefusesUnsafeLockFile(t *testing.T) {
	for _, tc := range []struct {
		name    string
		root    bool
		prepare func(t *testing.T, tmp, file string)
		want    string
	}{
		{"another owner", true, func(t *testing.T, _, file string) {
			if err := os.WriteFile(file, []byte("keep\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			chown(t, file, 65534)
		}, fmt.Sprintf("is owned by uid 65534, not by uid %d", os.Geteuid())},
		{"hard link", false, func(t *testing.T, tmp, file string) {
			other := filepath.Join(tmp, "other")
			if err := os.WriteFile(other, []byte("keep\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Link(other, file); err != nil {
				t.Fatal(err)
			}
		}, "has 2 hard links"},
		{"fifo", false, func(t *testing.T, _, file string) {
			if err := syscall.Mkfifo(file, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "is not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.root {
				requireRoot(t)
			}
			tmp, dir := lockEnv(t)
			mkdir(t, dir, 0o700)
			file := filepath.Join(dir, "p.lock")
			tc.prepare(t, tmp, file)

			_, err := lockProject(context.Background(), "p", target.NoProgress)
			if err == nil || !strings.Contains(err.Error(), "lock file "+file+" "+tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if st, err := os.Stat(file); err == nil && st.Mode().IsRegular() {
				if got, _ := os.ReadFile(file); string(got) != "keep\n" {
					t.Errorf("the refused file was changed to %q", got)
				}
			}
		})
	}
}

func TestLockMakesPrivateDirectory(t *testing.T) {
	_, dir := lockEnv(t)
	defer mustLock(t, "p")()
	st, err := os.Lstat(dir)
	if err != nil || !st.IsDir() || st.Mode().Perm() != 0o700 {
		t.Fatalf("lock directory: %v, %v; want a directory with mode 0700", st, err)
	}
	if st, err := os.Lstat(filepath.Join(dir, "p.lock")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("lock file: %v, %v; want mode 0600", st, err)
	}
}

func TestLockPrefersAPrivateRuntimeDir(t *testing.T) {
	for _, tc := range []struct {
		name    string
		runtime func(t *testing.T) string
		used    bool
	}{
		{"private", func(t *testing.T) string { return t.TempDir() }, true},
		{"writable by others", func(t *testing.T) string {
			d := t.TempDir()
			if err := os.Chmod(d, 0o777); err != nil {
				t.Fatal(err)
			}
			return d
		}, false},
		{"another owner", func(t *testing.T) string {
			requireRoot(t)
			d := t.TempDir()
			chown(t, d, 65534)
			return d
		}, false},
		{"a symlink", func(t *testing.T) string {
			link := filepath.Join(t.TempDir(), "link")
			symlink(t, t.TempDir(), link)
			return link
		}, false},
		{"relative", func(t *testing.T) string { return "run" }, false},
		{"missing", func(t *testing.T) string { return filepath.Join(t.TempDir(), "gone") }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, tmpDir := lockEnv(t)
			rt := tc.runtime(t)
			t.Setenv("XDG_RUNTIME_DIR", rt)

			unlock := mustLock(t, "p")
			defer unlock()
			_, inRuntime := os.Lstat(filepath.Join(rt, "opdeploy", "p.lock"))
			_, inTmp := os.Lstat(filepath.Join(tmpDir, "p.lock"))
			if tc.used && (inRuntime != nil || inTmp == nil) {
				t.Errorf("lock not in $XDG_RUNTIME_DIR/opdeploy (%v) or also in TMPDIR", inRuntime)
			}
			if !tc.used && (inRuntime == nil || inTmp != nil) {
				t.Errorf("lock not in $TMPDIR/opdeploy-<uid> (%v) or also in XDG_RUNTIME_DIR", inTmp)
			}
		})
	}
}

func TestLockersExcludeEachOther(t *testing.T) {
	_, dir := lockEnv(t)
	unlockFirst := mustLock(t, "p")
	wantHolder := fmt.Sprintf("%10d\n", os.Getpid())
	if got, _ := os.ReadFile(filepath.Join(dir, "p.lock")); string(got) != wantHolder {
		t.Fatalf("lock file holds %q, want the pid %q", got, wantHolder)
	}

	waiting := make(chan target.ProgressEvent, 1)
	type result struct {
		unlock func()
		err    error
	}
	second := make(chan result, 1)
	go func() {
		unlock, err := lockProject(context.Background(), "p", target.ProgressFunc(func(e target.ProgressEvent) { waiting <- e }))
		second <- result{unlock, err}
	}()

	var e target.ProgressEvent
	select {
	case e = <-waiting:
	case r := <-second:
		t.Fatalf("second locker returned instead of waiting (err %v)", r.err)
	}
	want := fmt.Sprintf("another opdeploy (pid %d) is changing project p", os.Getpid())
	if e.Action != "waiting" || e.Detail != want {
		t.Errorf("event %q %q, want waiting %q", e.Action, e.Detail, want)
	}
	select {
	case r := <-second:
		t.Fatalf("second locker got the lock while the first held it (err %v)", r.err)
	default:
	}
	unlockFirst()
	r := <-second
	if r.err != nil {
		t.Fatal(r.err)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "p.lock")); string(got) != wantHolder {
		t.Errorf("lock file holds %q after the second took it, want %q", got, wantHolder)
	}
	r.unlock()
	if got, _ := os.ReadFile(filepath.Join(dir, "p.lock")); strings.TrimSpace(string(got)) != "" || len(got) != len(wantHolder) {
		t.Errorf("released lock file holds %q, want blanks", got)
	}
}

func TestLockWaitEndsWithTheContext(t *testing.T) {
	lockEnv(t)
	defer mustLock(t, "p")()
	ctx, cancel := context.WithCancelCause(context.Background())
	stop := errors.New("stop waiting")
	_, err := lockProject(ctx, "p", target.ProgressFunc(func(target.ProgressEvent) { cancel(stop) }))
	if !errors.Is(err, stop) {
		t.Fatalf("err = %v, want the context's cause", err)
	}
}

func mkdir(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	// Chmod, not Mkdir's mode: the umask would take bits away.
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func chown(t *testing.T, path string, uid int) {
	t.Helper()
	if err := os.Chown(path, uid, uid); err != nil {
		t.Fatal(err)
	}
}
