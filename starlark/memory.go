package starlark

import (
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// DefaultMaxMemory bounds the memory opdeploy may use while it runs
// Starlark code. A subject generating a hundred nodes uses a few MiB; the
// machine that runs opdeploy also runs the cluster under test, so a subject
// must not be able to take its memory.
const DefaultMaxMemory = GiB

// MemoryError says the memory limit was exceeded while Starlark code ran.
type MemoryError struct {
	Limit ByteSize
	InUse ByteSize // when the limit was noticed
}

func (e *MemoryError) Error() string {
	return fmt.Sprintf("memory limit of %s exceeded: %s in use", e.Limit, e.InUse)
}

// The memory counted against the limit: Go heap objects (live, and dead
// ones not yet swept) and goroutine stacks, which a deep recursion (str()
// of a deeply nested value) grows without allocating on the heap.
// runtime/metrics reads them without stopping the world.
const (
	metricHeap   = "/memory/classes/heap/objects:bytes"
	metricStacks = "/memory/classes/heap/stacks:bytes"
)

// usage is one reading of the memory counted against the limit.
type usage struct {
	heap, stacks ByteSize
}

func (u usage) total() ByteSize { return u.heap + u.stacks }

func readUsage() usage {
	samples := []metrics.Sample{{Name: metricHeap}, {Name: metricStacks}}
	metrics.Read(samples)
	return usage{heap: ByteSize(samples[0].Value.Uint64()), stacks: ByteSize(samples[1].Value.Uint64())}
}

// liveOver reports the memory in use when it exceeds limit once garbage is
// collected. It collects only when a first reading is over the limit, so
// the common case costs one reading.
func liveOver(limit ByteSize) (ByteSize, bool) {
	if u := readUsage().total(); u <= limit {
		return u, false
	}
	runtime.GC()
	u := readUsage().total()
	return u, u > limit
}

// ApplyMemoryLimit makes the whole process honour limit: Go's own soft
// memory limit is set to it (unless GOMEMLIMIT already set one), so the
// collector works hard as memory nears the limit. Garbage then hardly
// counts toward the limit, and only live data can exceed it. It is
// process-wide, so the command line calls it, not Eval.
func ApplyMemoryLimit(limit ByteSize) {
	if limit == 0 {
		limit = DefaultMaxMemory
	}
	if debug.SetMemoryLimit(-1) != math.MaxInt64 {
		return // GOMEMLIMIT, or a caller, chose already
	}
	debug.SetMemoryLimit(int64(min(limit, math.MaxInt64)))
}
