package engine

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/opdeploy/opdeploy/starlark"
	"github.com/opdeploy/opdeploy/target"
)

// fakeTarget is a deployment whose actions succeed at once, except exec,
// which fails while failExec is set, and blocks, deaf to its context,
// while hang is open.
type fakeTarget struct {
	target.DeploymentTarget
	target.Operator
	failExec bool
	hang     chan struct{}
}

func (f *fakeTarget) Kind() string    { return "fake" }
func (f *fakeTarget) Project() string { return "fake" }
func (f *fakeTarget) Describe() target.Description {
	return target.Description{Kind: "fake", Project: "fake", Services: []target.ServiceSpec{{Name: "api"}}}
}
func (f *fakeTarget) Exec(_ context.Context, _ string, _ []string) (target.ExecResult, error) {
	if f.hang != nil {
		<-f.hang
	}
	if f.failExec {
		f.failExec = false
		return target.ExecResult{}, errors.New("exec failed")
	}
	return target.ExecResult{}, nil
}
func (f *fakeTarget) LogTail(context.Context, string, int) []string { return []string{"a log line"} }

type fakeResolver struct{ t *fakeTarget }

func (r fakeResolver) Local(context.Context, target.LocalSpec) (target.DeploymentTarget, error) {
	return r.t, nil
}

func (r fakeResolver) Swarm(context.Context, target.SwarmSpec) (target.DeploymentTarget, error) {
	return r.t, nil
}

func loadFake(t *testing.T, src string) (*Subject, *fakeTarget) {
	t.Helper()
	ft := &fakeTarget{}
	s, err := Load(context.Background(), "/s/main.star", Options{
		FS:       starlark.MapFS{"/s/main.star": "subject(name = \"s\", target = local_deployment(services = {\"api\": {\"image\": \"x\"}}))\n" + src},
		Resolver: fakeResolver{ft},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, ft
}

// A run cancelled while wait_until runs must fail cleanly, never panic
// (the cancel callback once read wait_until's not-yet-cancelled context).
func TestRunTimeoutDuringWaitUntil(t *testing.T) {
	s, _ := loadFake(t, `
def seq(ctx):
    def never():
        ctx.sleep("1ms")
        return False
    ctx.wait_until(never, timeout = "1m", interval = "1ms")
sequence("seq", seq)
`)
	for i := 0; i < 50; i++ {
		err := s.Run(context.Background(), "seq", RunOptions{Timeout: 20 * time.Millisecond})
		if err == nil || !strings.Contains(err.Error(), "did not finish within --timeout 20ms") {
			t.Fatalf("run %d: err = %v", i, err)
		}
	}
}

// wait_until's own timeout stops Starlark code running inside fn.
func TestWaitUntilTimeoutStopsStarlark(t *testing.T) {
	s, _ := loadFake(t, `
def seq(ctx):
    def spin():
        n = 0
        while n >= 0:
            n += 1
        return True
    ctx.wait_until(spin, timeout = "100ms")
sequence("seq", seq)
`)
	start := time.Now()
	err := s.Run(context.Background(), "seq", RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "not done within 100ms") {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("wait_until took %s to give up", d)
	}
}

// A step that failed inside wait_until (and was retried) is not blamed for
// a later failure.
func TestFailureReportsTheFailingStep(t *testing.T) {
	s, ft := loadFake(t, `
def seq(ctx):
    def ready():
        ctx.exec("api", ["true"])
        return True
    ctx.wait_until(ready, interval = "1ms")
    ctx.fail("boom")
sequence("seq", seq)
`)
	ft.failExec = true
	err := s.Run(context.Background(), "seq", RunOptions{})
	var se *SequenceError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v", err)
	}
	if se.Step != "" || se.Service != "" || len(se.LogTail) != 0 {
		t.Errorf("blamed step %q on %q with logs %v; want none", se.Step, se.Service, se.LogTail)
	}
	if !strings.Contains(se.Error(), "boom") {
		t.Errorf("error %q lacks boom", se.Error())
	}
}

// hangingTarget's exec never returns, whatever its context says: a call
// to an engine that stopped answering and a client that does not give up.
type hangingTarget struct {
	fakeTarget
	release chan struct{}
}

func (h *hangingTarget) Exec(context.Context, string, []string) (target.ExecResult, error) {
	<-h.release
	return target.ExecResult{}, nil
}

// A step's deadline holds even when the call inside ignores its context,
// within wait_until and alone; the whole run's --timeout too.
func TestStepDeadlinesHoldWhenCallsHang(t *testing.T) {
	h := &hangingTarget{release: make(chan struct{})}
	defer close(h.release)
	s, err := Load(context.Background(), "/s/main.star", Options{
		FS: starlark.MapFS{"/s/main.star": `
subject(name = "s", target = local_deployment(services = {"api": {"image": "x"}}))
def until(ctx):
    ctx.wait_until(lambda: ctx.exec("api", ["true"]).exit_code == 0, timeout = "200ms")
def alone(ctx):
    ctx.exec("api", ["true"], timeout = "200ms")
def run(ctx):
    ctx.exec("api", ["true"], timeout = "1h")
sequence("until", until)
sequence("alone", alone)
sequence("run", run)
`},
		Resolver: fakeResolver{&h.fakeTarget},
	})
	if err != nil {
		t.Fatal(err)
	}
	// The fake resolver hands out the embedded fakeTarget; run against the
	// hanging one.
	s.Target = h
	for _, c := range []struct {
		seq     string
		timeout time.Duration
		want    string
	}{
		{"until", 0, "wait_until lambda: not done within 200ms"},
		{"alone", 0, "exec api true: not done within 200ms"},
		{"run", 300 * time.Millisecond, `sequence "run" did not finish within --timeout 300ms`},
	} {
		done := make(chan error, 1)
		go func() { done <- s.Run(context.Background(), c.seq, RunOptions{Timeout: c.timeout}) }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("%s: err = %v, want %q", c.seq, err, c.want)
			}
		case <-time.After(time.Minute): // far past every deadline: the bound did not hold
			t.Fatalf("%s: still running after a minute", c.seq)
		}
	}
}
