package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/opdeploy/opdeploy/starlark"
	"github.com/opdeploy/opdeploy/target"
)

// nodeTarget is recordingTarget with nodes, as a swarm has: the kind of
// target ctx.nodes, ctx.drain and ctx.activate need. Its pause and
// disconnect are not supported, as a swarm's are not.
type nodeTarget struct {
	*recordingTarget
	nodes []target.Node
}

var _ target.NodeOperator = (*nodeTarget)(nil)

func (n *nodeTarget) Kind() string { return "swarm" }

func (n *nodeTarget) Nodes(context.Context) ([]target.Node, error) { return n.nodes, nil }

func (n *nodeTarget) SetAvailability(_ context.Context, node, availability string) error {
	if node == "node9" {
		return fmt.Errorf("node %q is not in the swarm", node)
	}
	n.record("availability " + node + " " + availability)
	return nil
}

func (n *nodeTarget) Pause(context.Context, string) error { return target.ErrNotSupported }

func (n *nodeTarget) Disconnect(_ context.Context, svc string) error {
	// Wrapped, as a target may give a reason: the message is still the
	// uniform one.
	return fmt.Errorf("service %q: overlay networks cannot be left: %w", svc, target.ErrNotSupported)
}

type nodeResolver struct{ t *nodeTarget }

func (nr nodeResolver) Local(context.Context, target.LocalSpec) (target.DeploymentTarget, error) {
	return nr.t, nil
}

func (nr nodeResolver) Swarm(context.Context, target.SwarmSpec) (target.DeploymentTarget, error) {
	return nr.t, nil
}

const swarmSubject = `subject(name = "s", target = swarm_deployment(services = {"api": {"image": "x"}, "db": {"image": "x"}}))
`

func loadNodes(t *testing.T, src string) (*Subject, *nodeTarget) {
	t.Helper()
	nt := &nodeTarget{recordingTarget: newRecordingTarget(t), nodes: []target.Node{
		{ID: "n1", Hostname: "node1", Role: "manager", Leader: true, State: "ready", Availability: "active", Addr: "10.0.0.1"},
		{ID: "n2", Hostname: "node2", Role: "worker", State: "down", Availability: "drain", Addr: "10.0.0.2"},
	}}
	s, err := Load(context.Background(), "/s/main.star", Options{
		FS:       starlark.MapFS{"/s/main.star": swarmSubject + src},
		Resolver: nodeResolver{nt},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, nt
}

func TestCtxNodesDrainActivate(t *testing.T) {
	s, nt := loadNodes(t, `
def seq(ctx):
    nodes = ctx.nodes()
    got = ["%s %s %s %s %s %s %s" % (n.id, n.hostname, n.role, n.leader, n.state, n.availability, n.addr) for n in nodes]
    want = ["n1 node1 manager True ready active 10.0.0.1", "n2 node2 worker False down drain 10.0.0.2"]
    if got != want:
        fail("nodes: %s" % got)
    ctx.drain("node2")
    ctx.activate(node = "n2")
sequence("seq", seq)
`)
	var steps []string
	err := s.Run(context.Background(), "seq", RunOptions{Steps: func(e StepEvent) {
		if e.Kind == StepStart {
			steps = append(steps, strings.TrimSpace(e.Step+" "+e.Args)+" at "+e.Pos.String())
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := nt.recorded(), "availability node2 drain; availability n2 active"; got != want {
		t.Errorf("calls %q, want %q", got, want)
	}
	if got, want := strings.Join(steps, "; "), "nodes at /s/main.star:4:22; drain node2 at /s/main.star:9:14; activate n2 at /s/main.star:10:17"; got != want {
		t.Errorf("steps\n %s\nwant\n %s", got, want)
	}
}

func TestCtxDrainErrors(t *testing.T) {
	for call, want := range map[string]string{
		`ctx.drain("node9")`:    `main.star:3:14: drain node9: node "node9" is not in the swarm`,
		`ctx.drain("")`:         `main.star:3:14: ctx.drain: for parameter node: must not be empty`,
		`ctx.activate()`:        `main.star:3:17: ctx.activate: missing argument for node`,
		`ctx.nodes("node1")`:    `main.star:3:14: ctx.nodes: got 1 arguments, want at most 0`,
		`ctx.drain(["a", "b"])`: `main.star:3:14: ctx.drain: for parameter node: got list, want string`,
	} {
		s, _ := loadNodes(t, "def seq(ctx):\n    "+call+"\nsequence(\"seq\", seq)\n")
		err := s.Run(context.Background(), "seq", RunOptions{})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", call, err, want)
		}
	}
}

// A target without nodes refuses ctx.nodes, ctx.drain and ctx.activate at
// the call, naming the builtin that declared it, before any step.
func TestCtxNodesOnATargetWithoutThem(t *testing.T) {
	for _, call := range []string{`ctx.drain("node1")`, `ctx.activate("node1")`, `ctx.nodes()`} {
		s, rt := loadRecording(t, "subject(name = \"s\", target = local_deployment(services = {\"api\": {\"image\": \"x\"}}))\ndef seq(ctx):\n    "+call+"\nsequence(\"seq\", seq)\n")
		var steps int
		err := s.Run(context.Background(), "seq", RunOptions{Steps: func(StepEvent) { steps++ }})
		method := call[:strings.Index(call, "(")]
		want := "/s/main.star:3:" + fmt.Sprint(5+len(method)) + ": " + method + " is not supported by fake_deployment"
		if err == nil || err.Error() != want {
			t.Errorf("%s: got %v, want %q", call, err, want)
		}
		if steps != 0 || rt.recorded() != "" {
			t.Errorf("%s: %d step events, calls %q", call, steps, rt.recorded())
		}
		if !errors.Is(err, target.ErrNotSupported) {
			t.Errorf("%s: %v is not ErrNotSupported", call, err)
		}
	}
}

// An Operator method that returns target.ErrNotSupported, wrapped or not,
// fails its step with the uniform message at the step's position; inside
// wait_until's function it is not "not yet": the wait gives up at once.
func TestOperatorNotSupportedIsUniform(t *testing.T) {
	const helpers = "sequence(\"seq\", seq)\ndef helper(ctx):\n    ctx.pause(\"api\")\n"
	for body, want := range map[string]string{
		`ctx.pause("api")`:     "/s/main.star:3:14: ctx.pause is not supported by swarm_deployment",
		`ctx.disconnect("db")`: "/s/main.star:3:19: ctx.disconnect is not supported by swarm_deployment",
		`helper(ctx)`:          "/s/main.star:6:14: ctx.pause is not supported by swarm_deployment",
		"ctx.wait_until(lambda: ctx.pause(\"api\"), timeout = \"30s\")": "/s/main.star:3:37: ctx.pause is not supported by swarm_deployment",
	} {
		s, _ := loadNodes(t, "def seq(ctx):\n    "+body+"\n"+helpers)
		start := time.Now()
		var ends []string
		err := s.Run(context.Background(), "seq", RunOptions{Steps: func(e StepEvent) {
			if e.Kind == StepEnd && e.Err != nil {
				ends = append(ends, e.Step+": "+e.Err.Error())
			}
		}})
		if err == nil || err.Error() != want {
			t.Errorf("%s: got %v, want %q", body, err, want)
			continue
		}
		if !errors.Is(err, target.ErrNotSupported) {
			t.Errorf("%s: %v is not ErrNotSupported", body, err)
		}
		var se *SequenceError
		if !errors.As(err, &se) || se.Step == "" {
			t.Errorf("%s: no failed step in %#v", body, err)
		}
		if len(ends) == 0 || !strings.HasSuffix(ends[len(ends)-1], "is not supported by swarm_deployment") {
			t.Errorf("%s: failed step events %q", body, ends)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: took %s", body, d)
		}
	}
}

// Faults: a target without them, and a Faulter that cannot make one kind,
// read alike from a sequence and from the CLI (opdeploy fault / heal).
func TestFaultsNotSupportedIsUniform(t *testing.T) {
	s, _ := loadNodes(t, "def seq(ctx):\n    ctx.heal()\nsequence(\"seq\", seq)\n")
	if err := s.Run(context.Background(), "seq", RunOptions{}); err == nil || err.Error() != "/s/main.star:3:13: ctx.heal is not supported by swarm_deployment" {
		t.Errorf("ctx.heal: %v", err)
	}
	if _, err := s.ApplyFault(context.Background(), target.FaultSpec{Kind: target.FaultDelay, Service: "api", Delay: time.Second}); err == nil || err.Error() != "fault is not supported by swarm_deployment" {
		t.Errorf("ApplyFault: %v", err)
	}
	if _, err := s.HealFaults(context.Background(), target.HealOptions{}); err == nil || err.Error() != "heal is not supported by swarm_deployment" {
		t.Errorf("HealFaults: %v", err)
	}

	s, ft := loadFaulting(t, "def seq(ctx):\n    ctx.limit(\"api\", cpus = 0.5)\nsequence(\"seq\", seq)\n")
	ft.refuse = target.FaultLimit
	if err := s.Run(context.Background(), "seq", RunOptions{}); err == nil || err.Error() != "/s/main.star:3:14: ctx.limit is not supported by fake_deployment" {
		t.Errorf("ctx.limit: %v", err)
	}
	if _, err := s.ApplyFault(context.Background(), target.FaultSpec{Kind: target.FaultLimit, Service: "api", CPUs: 0.5}); err == nil || err.Error() != "fault is not supported by fake_deployment" {
		t.Errorf("ApplyFault: %v", err)
	}
}

// A Starlark check on a target without an Operator fails its ctx actions
// with the uniform message rather than calling through a nil interface.
func TestFuncCheckOnATargetWithoutOperator(t *testing.T) {
	s, err := Load(context.Background(), "/s/main.star", Options{
		FS: starlark.MapFS{"/s/main.star": `def stopped(ctx):
    ctx.stop("api")
    return True
subject(name = "s", target = local_deployment(services = {"api": {"image": "x"}}), checks = [check("stopped", stopped)])
`},
		Resolver: lifecycleOnlyResolver{},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.runFuncCheck(context.Background(), s.FuncChecks[0])
	if err == nil || err.Error() != "/s/main.star:2:13: ctx.stop is not supported by plain_deployment" {
		t.Errorf("got %v", err)
	}
}

// lifecycleOnly is a target with the lifecycle verbs only: no Operator.
type lifecycleOnly struct{ target.DeploymentTarget }

func (lifecycleOnly) Kind() string    { return "plain" }
func (lifecycleOnly) Project() string { return "s" }
func (lifecycleOnly) Describe() target.Description {
	return target.Description{Kind: "plain", Project: "s", Services: []target.ServiceSpec{{Name: "api"}}}
}

type lifecycleOnlyResolver struct{}

func (lifecycleOnlyResolver) Local(context.Context, target.LocalSpec) (target.DeploymentTarget, error) {
	return lifecycleOnly{}, nil
}

func (lifecycleOnlyResolver) Swarm(context.Context, target.SwarmSpec) (target.DeploymentTarget, error) {
	return lifecycleOnly{}, nil
}
