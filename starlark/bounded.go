package starlark

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"go.starlark.net/starlark"
)

// Limits bound Starlark code that Bounded runs.
type Limits struct {
	// MaxMemory bounds the memory in use; zero means DefaultMaxMemory.
	MaxMemory ByteSize
	// MaxSteps bounds the thread's steps; zero means no step limit.
	MaxSteps uint64
	// Reason words why the thread was stopped, for its error: a
	// *MemoryError, a *StepsError, or the cause of ctx's end (an
	// interrupt, a timeout). Nil means the cause's own message.
	Reason func(cause error) string
}

// StepsError says a thread reached its step limit.
type StepsError struct {
	Max uint64
}

func (e *StepsError) Error() string { return "too many steps" }

// Bounded runs code that executes Starlark on thread, run, within lim,
// and stops it when ctx ends. It owns thread's OnMaxSteps and step limit.
//
// Memory is watched twice over (see guard and watched): on the thread,
// every few steps, so that it stops between two operations with the
// position of the step it reached; and by a sampler on a clock, which
// also ends run's context (so steps that honour it, such as sleeps and
// waits, end too) and stops waiting for one operation that goes on too
// long: then Bounded returns an *AbandonedError and the goroutine running
// the operation is left behind.
func Bounded[T any](ctx context.Context, thread *starlark.Thread, lim Limits, run func(ctx context.Context) (T, error)) (T, error) {
	if lim.MaxMemory == 0 {
		lim.MaxMemory = DefaultMaxMemory
	}
	if lim.Reason == nil {
		lim.Reason = func(cause error) string { return cause.Error() }
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	g := newGuard(lim, cancel)
	g.install(thread)
	stop := context.AfterFunc(ctx, func() { thread.Cancel(lim.Reason(context.Cause(ctx))) })
	defer stop()
	w := watch{
		limit: lim.MaxMemory, hard: runawayFactor * lim.MaxMemory, near: &g.near,
		every: sampleEvery, grace: stopGrace, stack: maxStack,
	}
	v, err := watched(ctx, cancel, w, run)
	var ab *AbandonedError
	if errors.As(err, &ab) {
		// Should the operation end after all, the thread stops at once.
		thread.Cancel(lim.Reason(ab.Cause))
	}
	return v, err
}

// How the sampler watches. Sampling on a clock bounds what is allocated
// unseen by the thread's own checks to what the machine allocates in one
// interval, except during one long operation: a copy of a huge list runs
// without preemption, and when the collector then needs to stop the world
// for a phase change, no goroutine runs until the copy is over (samples
// 2-8 s apart were seen while a list doubled past 1GiB).
const (
	sampleEvery = 5 * time.Millisecond
	// stopGrace is how long code asked to stop (interrupt, timeout, memory)
	// may take to return before Bounded stops waiting for it. The
	// interpreter stops at its next step; only one Go operation, such as
	// str() of a deeply nested value, can take longer.
	stopGrace = 2 * time.Second
	// runawayFactor times the limit is memory in use that one operation on
	// data already in memory cannot reach: l + l ends under three times the
	// limit, since l was under it. Past it one operation allocates far
	// more, such as (0,) * 1000000000 asking for 16GB at once, and Bounded
	// stops waiting at once: the operation fills its memory without
	// preemption, and once the collector stops the world behind it, nothing
	// else runs until it is done.
	runawayFactor = 4
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

// StackError says one operation recursed so deeply that its goroutine
// stack reached a size no opdeploy code needs.
type StackError struct {
	Stack ByteSize
}

func (e *StackError) Error() string {
	return "an operation recursed too deeply (" + e.Stack.String() + " of stack; a value nested too deeply?)"
}

// watch holds the sampler's thresholds, so tests can shrink them.
type watch struct {
	limit, hard ByteSize
	near        *atomic.Bool // told when memory nears the limit; may be nil
	every       time.Duration
	grace       time.Duration
	stack       ByteSize
}

// watched runs run on a goroutine of its own and samples memory until it
// returns. cancel ends ctx, which run was given.
func watched[T any](ctx context.Context, cancel context.CancelCauseFunc, w watch, run func(context.Context) (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1) // buffered: an abandoned run must not block
	go func() {
		v, err := run(ctx)
		done <- result{v, err}
	}()
	// The grace is counted in samples, not read from the clock: if the
	// whole process stalls (an overloaded machine, a stopped world), the
	// ticker drops the ticks it missed, and code that was about to return
	// is not abandoned for it.
	grace := int(w.grace / w.every)
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
		if w.near != nil {
			w.near.Store(u.total() >= w.limit/nearFraction)
		}
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
		case u.total() > w.hard:
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
