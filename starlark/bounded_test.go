package starlark

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.starlark.net/starlark"
)

// blocked stands for one operation that never ends by itself (str() of a
// deeply nested value): it ignores its context until the test releases it.
func blocked(t *testing.T) func(context.Context) (int, error) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	return func(context.Context) (int, error) {
		<-release
		return 0, nil
	}
}

func runWatched[T any](ctx context.Context, w watch, run func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	return watched(ctx, cancel, w, run)
}

// testWatch never fires unless a test lowers a threshold.
var testWatch = watch{limit: TiB, hard: TiB, every: time.Millisecond, grace: time.Hour, stack: TiB}

func TestBoundedReturnsWhatRunReturns(t *testing.T) {
	v, err := runWatched(context.Background(), testWatch, func(context.Context) (int, error) { return 7, nil })
	if v != 7 || err != nil {
		t.Fatalf("got %d, %v", v, err)
	}
}

// Over the limit, run's context ends with a *MemoryError, and code that
// stops when asked returns its own error (the thread's, with a position).
func TestBoundedAsksRunToStopOverTheLimit(t *testing.T) {
	w := testWatch
	w.limit = 1
	_, err := runWatched(context.Background(), w, func(ctx context.Context) (int, error) {
		<-ctx.Done()
		return 0, context.Cause(ctx)
	})
	var me *MemoryError
	if !errors.As(err, &me) || me.Limit != 1 {
		t.Fatalf("err = %v, want a *MemoryError", err)
	}
	var ab *AbandonedError
	if errors.As(err, &ab) {
		t.Fatalf("err = %v: run returned, but was abandoned", err)
	}
}

// An operation that allocates far past the limit is abandoned at once.
func TestBoundedAbandonsARunaway(t *testing.T) {
	w := testWatch
	w.limit, w.hard = 1, 2
	_, err := runWatched(context.Background(), w, blocked(t))
	var ab *AbandonedError
	var me *MemoryError
	if !errors.As(err, &ab) || !errors.As(ab.Cause, &me) {
		t.Fatalf("err = %v, want an *AbandonedError caused by a *MemoryError", err)
	}
}

// An interrupted run that does not stop is abandoned after the grace, so
// Ctrl-C works even while one operation runs for minutes.
func TestBoundedAbandonsARunThatIgnoresCancellation(t *testing.T) {
	w := testWatch
	w.grace = 10 * time.Millisecond
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(errors.New("interrupt signal received"))
	_, err := runWatched(ctx, w, blocked(t))
	var ab *AbandonedError
	if !errors.As(err, &ab) || ab.Error() != "interrupt signal received (one operation did not stop when asked; opdeploy stopped waiting for it)" {
		t.Fatalf("err = %v", err)
	}
}

// A recursion that has grown a huge stack is abandoned at once: the next
// doubling of its stack would be a fatal error no code can catch.
func TestBoundedAbandonsADeepRecursion(t *testing.T) {
	w := testWatch
	w.stack = 1
	_, err := runWatched(context.Background(), w, blocked(t))
	var ab *AbandonedError
	var se *StackError
	if !errors.As(err, &ab) || !errors.As(ab.Cause, &se) {
		t.Fatalf("err = %v, want an *AbandonedError caused by a *StackError", err)
	}
}

// The thread checks memory itself, so it stops between two operations even
// when the sampler cannot run, with the position of the step it reached.
func TestThreadStopsItselfOverTheLimit(t *testing.T) {
	thread := &starlark.Thread{}
	lim := Limits{MaxMemory: 1, Reason: func(cause error) string { return "stopped: " + cause.Error() }}
	_, err := Bounded(context.Background(), thread, lim, func(context.Context) (starlark.StringDict, error) {
		return starlark.ExecFileOptions(FileOptions, thread, "loop.star", "while True:\n    pass\n", nil)
	})
	var ee *starlark.EvalError
	if !errors.As(err, &ee) || !strings.HasPrefix(ee.Msg, "Starlark computation cancelled: stopped: memory limit of 1B exceeded: ") {
		t.Fatalf("err = %v", err)
	}
	if pos := ee.CallStack.At(0).Pos; pos.Filename() != "loop.star" || pos.Line < 1 || pos.Line > 2 {
		t.Errorf("stopped at %v", pos)
	}
}
