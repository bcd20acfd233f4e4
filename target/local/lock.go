package local

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/opdeploy/opdeploy/target"
)

// lockProject serializes opdeploy processes that change the same project
// on this machine: a second `up` waits for the first (saying so) instead of
// racing it. The lock is an flock on a file per project, released by the
// kernel if the holder dies, so a crash never leaves it stuck.
func lockProject(ctx context.Context, project string, progress target.Progress) (unlock func(), err error) {
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("opdeploy-%d", os.Getuid()))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	path := filepath.Join(dir, project+".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	announced := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if !announced {
			holder, _ := os.ReadFile(path)
			progress.Event(target.ProgressEvent{
				Time: time.Now(), Resource: "project " + project, Action: "waiting",
				Detail: fmt.Sprintf("another opdeploy (pid %s) is changing project %s", strings.TrimSpace(string(holder)), project),
			})
			announced = true
		}
		// flock(2) cannot be interrupted by a context, so the wait is a
		// short retry loop; it only runs while another process holds the lock.
		select {
		case <-ctx.Done():
			f.Close()
			return nil, context.Cause(ctx)
		case <-time.After(50 * time.Millisecond):
		}
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() {
		_ = f.Truncate(0)
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
