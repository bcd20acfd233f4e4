package starlark

import (
	"context"
	"errors"
	"time"
)

// How Bounded watches the code it runs. Starlark steps are too uneven to
// sample by: one step (l = l + l) can double the heap, so a list reaches
// 16GiB within 400 steps, while reading memory costs as much as some 30
// steps. Sampling on a clock bounds what is allocated unseen to what the
// machine can allocate in one interval.
const (
	sampleEvery = 5 * time.Millisecond
	// stopGrace is how long code asked to stop (interrupt, timeout, memory)
	// may take to return before Bounded stops waiting for it. The
	// interpreter stops at its next step; only one Go operation, such as
	// str() of a deeply nested value, can take longer.
	stopGrace = 2 * time.Second
	// runawayGrace is the shorter wait when memory in use has passed twice
	// the limit since the code was asked to stop: one operation (list(range(n)),
	// ("x",) * n) is still allocating.
	runawayGrace = 250 * time.Millisecond
	// maxStack is a goroutine stack size no opdeploy code needs. A stack
	// that deep is a recursion inside one operation (str() or hash() of a
	// value nested a million levels deep); the stack grows by doubling, and
	// past 512MiB Go ends the process with "fatal error: stack overflow",
	// so Bounded stops waiting at once, while there is still room.
	maxStack = 256 * MiB
)

// AbandonedError says Bounded stopped waiting for Starlark code inside one
// operation: it did not stop when asked, or it recursed so deeply that Go
// would soon end the process. The goroutine that runs it is left behind,
// so the caller should end the process soon.
type AbandonedError struct {
	Cause error // a *MemoryError, a *StackError, or why the code was asked to stop
}

func (e *AbandonedError) Error() string {
	var se *StackError
	if errors.As(e.Cause, &se) {
		return e.Cause.Error() + "; opdeploy stopped waiting for it"
	}
	return e.Cause.Error() + " (one operation did not stop when asked; opdeploy stopped waiting for it)"
}

func (e *AbandonedError) Unwrap() error { return e.Cause }

// Bounded runs code that executes Starlark, run, on a goroutine of its own
// while it watches memory. Once memory in use passes limit (zero means
// DefaultMaxMemory), run's context is cancelled with a *MemoryError as its
// cause: run must stop its thread then (thread.Cancel), which ends the
// thread at its next step with that step's position. Steps that honour the
// context end too. If run does not return soon after being asked to stop
// (by the limit or by ctx), Bounded returns an *AbandonedError without it.
func Bounded[T any](ctx context.Context, limit ByteSize, run func(ctx context.Context) (T, error)) (T, error) {
	if limit == 0 {
		limit = DefaultMaxMemory
	}
	w := watch{limit: limit, hard: 2 * limit, every: sampleEvery, grace: stopGrace, runaway: runawayGrace, stack: maxStack}
	return watched(ctx, w, run)
}

// watch holds Bounded's thresholds, so tests can shrink them.
type watch struct {
	limit, hard    ByteSize
	every          time.Duration
	grace, runaway time.Duration
	stack          ByteSize
}

func watched[T any](ctx context.Context, w watch, run func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1) // buffered: an abandoned run must not block
	go func() {
		v, err := run(ctx)
		done <- result{v, err}
	}()
	// The graces are counted in samples, not read from the clock: if the
	// whole process stalls (an overloaded machine), the ticker drops the
	// ticks it missed, and code that was about to return is not taken for
	// a runaway.
	grace, runaway := int(w.grace/w.every), int(w.runaway/w.every)
	tick := time.NewTicker(w.every)
	defer tick.Stop()
	asked := -1 // samples taken since run was asked to stop; -1: not asked
	for {
		select {
		case r := <-done:
			return r.v, r.err
		case <-tick.C:
		}
		u := readUsage()
		if ctx.Err() == nil && u.total() > w.limit {
			cancel(&MemoryError{Limit: w.limit, InUse: u.total()})
		}
		if ctx.Err() != nil {
			asked++
		}
		var cause error
		switch {
		case u.stacks >= w.stack:
			cause = &StackError{Stack: u.stacks}
		case asked >= runaway && u.total() > w.hard:
			cause = &MemoryError{Limit: w.limit, InUse: u.total()}
		case asked >= grace:
			cause = context.Cause(ctx)
		default:
			continue
		}
		select {
		case r := <-done: // it did return, just now
			return r.v, r.err
		default:
		}
		var zero T
		return zero, &AbandonedError{Cause: cause}
	}
}

// StackError says one operation recursed so deeply that its goroutine
// stack reached a size no opdeploy code needs.
type StackError struct {
	Stack ByteSize
}

func (e *StackError) Error() string {
	return "an operation recursed too deeply (" + e.Stack.String() + " of stack; a value nested too deeply?)"
}
