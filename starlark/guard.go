package starlark

import (
	"context"
	"sync/atomic"

	"go.starlark.net/starlark"
)

// The thread checks memory itself, between two operations, so that it
// stops right after the operation that passed the limit, with the position
// of the step it reached. A reading costs as much as some 30 steps (820 ns
// against 26 ns), and one step can double memory (l = l + l), so the
// thread reads rarely while memory is far below the limit, and every few
// steps once it is near: an eighth of the limit, which no real subject
// reaches. The sampler tells the thread when memory is near, since the
// thread's rare readings would miss a doubling list (11 steps a doubling).
const (
	checkEvery   = 16   // steps between two calls of the hook
	nearEvery    = 4    // steps between two readings near the limit
	readEvery    = 4096 // steps between two readings otherwise
	nearFraction = 8    // near: in use, limit/nearFraction or more
)

// guard is the thread's side of Bounded: it holds the step limit and
// checks memory, in thread.OnMaxSteps, which the interpreter calls
// synchronously when the thread's steps reach the bound it was given.
type guard struct {
	lim      Limits
	cancel   context.CancelCauseFunc
	near     atomic.Bool // set by the sampler and by the thread's readings
	nextRead uint64
}

func newGuard(lim Limits, cancel context.CancelCauseFunc) *guard {
	return &guard{lim: lim, cancel: cancel}
}

func (g *guard) install(t *starlark.Thread) {
	g.nextRead = t.ExecutionSteps() + readEvery
	t.OnMaxSteps = g.onMaxSteps
	g.arm(t)
}

// arm asks the interpreter to call the hook again a few steps from now,
// or at the step limit if that comes first.
func (g *guard) arm(t *starlark.Thread) {
	next := t.ExecutionSteps() + checkEvery
	if g.near.Load() {
		next = t.ExecutionSteps() + nearEvery
	}
	if g.lim.MaxSteps > 0 {
		next = min(next, g.lim.MaxSteps)
	}
	t.SetMaxExecutionSteps(next)
}

func (g *guard) onMaxSteps(t *starlark.Thread) {
	steps := t.ExecutionSteps()
	if g.lim.MaxSteps > 0 && steps >= g.lim.MaxSteps {
		g.stop(t, &StepsError{Max: g.lim.MaxSteps})
		return
	}
	if g.near.Load() || steps >= g.nextRead {
		g.nextRead = steps + readEvery
		inUse := readUsage().total()
		g.near.Store(inUse >= g.lim.MaxMemory/nearFraction)
		if inUse > g.lim.MaxMemory {
			g.stop(t, &MemoryError{Limit: g.lim.MaxMemory, InUse: inUse})
			return
		}
	}
	g.arm(t)
}

// stop cancels the thread now, from the thread itself, so it fails at
// this very step; ending the context would reach it a little later. The
// context is ended too, so steps and the sampler know.
func (g *guard) stop(t *starlark.Thread, cause error) {
	t.Cancel(g.lim.Reason(cause))
	g.cancel(cause)
}
