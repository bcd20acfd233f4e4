package local

import (
	"os"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// The fields read from /proc/PID/stat are the right ones: this process is
// found in its own session and among its parent's descendants.
func TestProcStatFields(t *testing.T) {
	sid, err := unix.Getsid(0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(inSession(sid), os.Getpid()) {
		t.Errorf("pid %d not found in its session %d", os.Getpid(), sid)
	}
	if !slices.Contains(descendants(os.Getppid()), os.Getpid()) {
		t.Errorf("pid %d not found among its parent's descendants", os.Getpid())
	}
	if zombie(os.Getpid()) {
		t.Error("a running process counted as gone")
	}
}
