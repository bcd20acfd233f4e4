package engine

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opdeploy/opdeploy/starlark"
	"github.com/opdeploy/opdeploy/target"
)

// faultingTarget is fakeTarget that records the faults it is asked to
// apply and heal.
type faultingTarget struct {
	*fakeTarget
	mu      sync.Mutex
	n       int
	applied []target.FaultSpec
	healed  [][]string // the IDs of each heal
	// refuse is a kind of fault the target cannot make: Apply returns
	// target.ErrNotSupported for it.
	refuse target.FaultKind
}

func (f *faultingTarget) Apply(_ context.Context, spec target.FaultSpec) ([]target.Fault, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if spec.Kind == f.refuse {
		return nil, target.ErrNotSupported
	}
	f.n++
	f.applied = append(f.applied, spec)
	return []target.Fault{{ID: fmt.Sprintf("f%d", f.n), Kind: spec.Kind, Service: spec.Service, Since: time.Now()}}, nil
}

func (f *faultingTarget) Heal(_ context.Context, opts target.HealOptions) ([]target.Fault, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.healed = append(f.healed, append([]string{"ids:"}, opts.IDs...))
	return nil, nil
}

func (f *faultingTarget) Faults(context.Context) ([]target.Fault, error) { return nil, nil }

type faultingResolver struct{ t *faultingTarget }

func (r faultingResolver) Local(context.Context, target.LocalSpec) (target.DeploymentTarget, error) {
	return r.t, nil
}

func (r faultingResolver) Swarm(context.Context, target.SwarmSpec) (target.DeploymentTarget, error) {
	return r.t, nil
}

func loadFaulting(t *testing.T, src string) (*Subject, *faultingTarget) {
	t.Helper()
	ft := &faultingTarget{fakeTarget: &fakeTarget{}}
	s, err := Load(context.Background(), "/s/main.star", Options{
		FS:       starlark.MapFS{"/s/main.star": "subject(name = \"s\", target = local_deployment(services = {\"api\": {\"image\": \"x\"}}))\n" + src},
		Resolver: faultingResolver{ft},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, ft
}

func TestSequenceHealsItsFaultsWhenItEnds(t *testing.T) {
	for _, c := range []struct {
		name, body string
		fails      bool
	}{
		{"passes", "", false},
		{"fails", `    fail("boom")`, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, ft := loadFaulting(t, "def seq(ctx):\n    ctx.delay(\"api\", \"300ms\", jitter = \"50ms\")\n    ctx.loss(\"api\", 30, keep = True)\n"+c.body+"\nsequence(\"seq\", seq)\n")
			err := s.Run(context.Background(), "seq", RunOptions{})
			if (err != nil) != c.fails {
				t.Fatalf("Run: %v", err)
			}
			if len(ft.applied) != 2 || ft.applied[0].Delay != 300*time.Millisecond || ft.applied[0].Jitter != 50*time.Millisecond || ft.applied[1].Percent != 30 {
				t.Fatalf("applied %+v", ft.applied)
			}
			// The delay is healed; the loss was kept.
			if got := fmt.Sprint(ft.healed); got != "[[ids: f1]]" {
				t.Errorf("healed %s, want [[ids: f1]]", got)
			}
		})
	}
}

func TestSequenceHealsItsFaultsWhenInterrupted(t *testing.T) {
	s, ft := loadFaulting(t, "def seq(ctx):\n    ctx.delay(\"api\", \"1s\")\n    ctx.sleep(\"1m\")\nsequence(\"seq\", seq)\n")
	ctx, cancel := context.WithCancel(context.Background())
	steps := make(chan StepEvent, 16)
	go func() {
		for e := range steps {
			if e.Kind == StepStart && e.Step == "sleep" {
				cancel()
			}
		}
	}()
	err := s.Run(ctx, "seq", RunOptions{Steps: func(e StepEvent) { steps <- e }})
	close(steps)
	if err == nil {
		t.Fatal("Run succeeded after cancel")
	}
	if got := fmt.Sprint(ft.healed); got != "[[ids: f1]]" {
		t.Errorf("healed %s, want [[ids: f1]]", got)
	}
}

func TestFaultArgumentsAreCheckedWithAPosition(t *testing.T) {
	for call, want := range map[string]string{
		`ctx.loss("api", 150)`:                "main.star:3:13: ctx.loss: for parameter percent: percent must be from 0 to 100, got 150",
		`ctx.delay("nope", "1s")`:             `main.star:3:14: ctx.delay: service "nope" is not in the deployment (services: api)`,
		`ctx.delay("api", "-1s")`:             "main.star:3:14: ctx.delay: for parameter delay: duration must not be negative, got -1s",
		`ctx.partition("api")`:                "ctx.partition: a partition needs at least two groups, got 1",
		`ctx.limit("api")`:                    "ctx.limit: give cpus, memory or both",
		`ctx.fill_disk("api", "data")`:        `ctx.fill_disk: path "data" must be absolute`,
		`ctx.delay("api", "1s", jitter="2s")`: "jitter 2s must not exceed the delay 1s",
	} {
		s, ft := loadFaulting(t, "def seq(ctx):\n    "+call+"\nsequence(\"seq\", seq)\n")
		err := s.Run(context.Background(), "seq", RunOptions{})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", call, err, want)
		}
		if len(ft.applied) != 0 {
			t.Errorf("%s: applied %+v", call, ft.applied)
		}
	}
}

func TestFaultsOnATargetWithoutThem(t *testing.T) {
	s, _ := loadFake(t, "def seq(ctx):\n    ctx.delay(\"api\", \"1s\")\nsequence(\"seq\", seq)\n")
	err := s.Run(context.Background(), "seq", RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "main.star:3:14: ctx.delay is not supported by fake_deployment") {
		t.Errorf("got %v", err)
	}
}
