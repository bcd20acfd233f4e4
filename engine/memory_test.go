package engine

import (
	"context"
	"errors"
	"regexp"
	"runtime"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/opdeploy/opdeploy/starlark"
)

// A sequence has no step limit, but it has the memory limit: the doubling
// list that took a machine's 24 GB stops with the limit, at its position.
func TestSequenceStopsAtTheMemoryLimit(t *testing.T) {
	s, _ := loadFake(t, `
def grow(ctx):
    l = [1]
    for i in range(40):
        l = l + l
sequence("grow", grow)
`)
	s.MaxMemory = 64 << 20
	runtime.GC()
	err := s.Run(context.Background(), "grow", RunOptions{})
	var se *starlark.Error
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a positioned error", err)
	}
	// The interpreter stops wherever it was in the loop (lines 4-5 of the
	// sequence, after the subject's line).
	if se.Pos.File != "/s/main.star" || se.Pos.Line < 5 || se.Pos.Line > 6 ||
		!regexp.MustCompile(`^memory limit of 64MiB exceeded: [\d.]+MiB in use$`).MatchString(se.Msg) {
		t.Fatalf("err = %v", err)
	}
}

// Passing the limit ends a step in flight too, not only the Starlark code
// around it. The limit is half of what is in use already, so it is passed
// at the first sample, and far from the point (four times the limit) where
// opdeploy would stop waiting for the step.
func TestMemoryLimitEndsAStepInFlight(t *testing.T) {
	s, _ := loadFake(t, `
def nap(ctx):
    ctx.sleep("1h")
sequence("nap", nap)
`)
	runtime.GC() // so that what is counted now is live, and stays
	s.MaxMemory = inUse() / 2
	// The run's timeout is only a backstop: without the fix the sleep
	// would last an hour.
	err := s.Run(context.Background(), "nap", RunOptions{Timeout: time.Minute})
	var se *starlark.Error
	if !errors.As(err, &se) || se.Pos.Line != 4 || !strings.Contains(se.Msg, "memory limit of "+s.MaxMemory.String()+" exceeded") {
		t.Fatalf("err = %v, want the memory limit at the sleep (line 4)", err)
	}
}

// A step deaf to its context cannot hold a run past Ctrl-C or --timeout:
// the step gives up on the call (see boundedCall), and the run reports
// which step was in flight.
func TestRunEndsWhenAStepIgnoresCancellation(t *testing.T) {
	s, ft := loadFake(t, `
def stuck(ctx):
    ctx.exec("api", ["true"])
sequence("stuck", stuck)
`)
	ft.hang = make(chan struct{})
	defer close(ft.hang)
	err := s.Run(context.Background(), "stuck", RunOptions{Timeout: 10 * time.Millisecond})
	var se *SequenceError
	if !errors.As(err, &se) || se.Step != "exec" {
		t.Fatalf("err = %#v", err)
	}
	if !strings.Contains(err.Error(), `sequence "stuck" did not finish within --timeout 10ms`) {
		t.Errorf("err = %v", err)
	}
}

// A Starlark check's result is shown briefly, however big it is.
func TestCheckResultIsShownBriefly(t *testing.T) {
	s, err := Load(context.Background(), "/s/main.star", Options{
		FS: starlark.MapFS{"/s/main.star": `
def deep(ctx):
    v = []
    for i in range(10000):
        v = [v]
    return v
subject(name = "s", target = local_deployment(services = {"api": {"image": "x"}}), checks = [check("deep", deep)])
`},
		Resolver: fakeResolver{&fakeTarget{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	detail, err := s.runFuncCheck(context.Background(), s.FuncChecks[0])
	if err != nil || !strings.HasPrefix(detail, "returned [[[[[") || len(detail) > 200 {
		t.Fatalf("detail %q (%d bytes), err %v", detail[:min(len(detail), 80)], len(detail), err)
	}
}

// inUse reads what starlark.Bounded counts: heap objects and stacks.
func inUse() starlark.ByteSize {
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/stacks:bytes"}}
	metrics.Read(samples)
	return starlark.ByteSize(samples[0].Value.Uint64() + samples[1].Value.Uint64())
}
