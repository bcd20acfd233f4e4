package suite

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"
)

// scriptT is the testscript.T of one script: what *testing.T is under
// `go test`. It collects the script's log and outcome. FailNow and Skip
// end the calling goroutine, as testing's do, so each script body runs on
// a goroutine of its own (run).
type scriptT struct {
	verbose bool

	mu         sync.Mutex
	log        strings.Builder
	failed     bool
	skipped    bool
	skipReason string
}

var _ testscript.T = (*scriptT)(nil)

func (t *scriptT) Log(args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := fmt.Sprintln(args...)
	t.log.WriteString(s)
}

func (t *scriptT) Fatal(args ...any) {
	t.Log(args...)
	t.FailNow()
}

func (t *scriptT) FailNow() {
	t.mu.Lock()
	t.failed = true
	t.mu.Unlock()
	runtime.Goexit()
}

// markFailed fails a script whose body is still running (abandoned).
func (t *scriptT) markFailed() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.failed = true
}

func (t *scriptT) Skip(args ...any) {
	t.mu.Lock()
	t.skipped = true
	t.skipReason = strings.TrimSpace(fmt.Sprintln(args...))
	t.mu.Unlock()
	runtime.Goexit()
}

// Parallel does nothing: the runner decides what runs at once (-j).
func (t *scriptT) Parallel() {}

func (t *scriptT) Verbose() bool { return t.verbose }

// Run runs a script's body (testscript calls it once per file) and
// returns when it has ended, however it ended.
func (t *scriptT) Run(_ string, f func(testscript.T)) {
	t.guard(func() { f(t) })
}

// guard calls f on a goroutine of its own and waits for it, so that a
// runtime.Goexit in f (FailNow, Skip) ends only that goroutine, and a
// panic in f (in a command) fails the script instead of the whole run.
func (t *scriptT) guard(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				t.Log(fmt.Sprintf("FAIL: panic: %v\n%s", r, debug.Stack()))
				t.markFailed()
			}
		}()
		f()
	}()
	<-done
}

// outcome returns what the script did.
func (t *scriptT) outcome() (log string, failed, skipped bool, reason string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.log.String(), t.failed, t.skipped, t.skipReason
}
