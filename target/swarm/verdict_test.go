package swarm

import (
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/swarm"

	"github.com/opdeploy/opdeploy/target"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func node(id, host string, state swarm.NodeState) swarm.Node {
	return swarm.Node{ID: id, Description: swarm.NodeDescription{Hostname: host}, Status: swarm.NodeStatus{State: state, Addr: "10.0.0." + id}}
}

func task(id string, slot int, nodeID string, state, desired swarm.TaskState, created time.Time) swarm.Task {
	return swarm.Task{ID: id, Slot: slot, NodeID: nodeID, Meta: swarm.Meta{CreatedAt: created},
		Status: swarm.TaskStatus{State: state, Timestamp: created}, DesiredState: desired}
}

func replicated(n uint64, health bool) swarm.Service {
	svc := swarm.Service{Spec: swarm.ServiceSpec{Annotations: swarm.Annotations{Name: "p_web"},
		TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{}},
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &n}}}}
	if health {
		svc.Spec.TaskTemplate.ContainerSpec.Healthcheck = &container.HealthConfig{Test: []string{"CMD", "true"}}
	}
	return svc
}

func deploymentOf(services ...string) *Deployment {
	p := &types.Project{Name: "p", Services: types.Services{}}
	for _, s := range services {
		p.Services[s] = types.ServiceConfig{Name: s}
	}
	return &Deployment{project: p}
}

// declare sets the replica count the compose file declares.
func declare(d *Deployment, service string, n int) {
	s := d.project.Services[service]
	s.Scale = &n
	d.project.Services[service] = s
}

// TestRowsDeclaredNotLive: the rows count the replicas the compose file
// declares, not what the swarm holds: a service scaled down behind
// opdeploy's back is not healthy; a replicated job's slots (from 0) are
// one row each, its newest attempt.
func TestRowsDeclaredNotLive(t *testing.T) {
	nodes := map[string]swarm.Node{"1": node("1", "node1", swarm.NodeStateReady), "2": node("2", "node2", swarm.NodeStateReady)}
	d := deploymentOf("web")
	declare(d, "web", 3)
	obs := observed{services: map[string]swarm.Service{"web": replicated(1, true)}, nodes: nodes,
		tasks: map[string][]swarm.Task{"web": {task("a", 1, "1", swarm.TaskStateRunning, swarm.TaskStateRunning, t0)}}}
	rows := d.rows(obs, []string{"web"}, t0.Add(time.Minute))
	if len(rows) != 3 || allReady(rows) || rows[1].State != target.StateMissing || rows[2].State != target.StateMissing {
		t.Errorf("scaled down behind our back: %+v", rows)
	}

	one := uint64(1)
	job := swarm.Service{Spec: swarm.ServiceSpec{Annotations: swarm.Annotations{Name: "p_web"}, TaskTemplate: swarm.TaskSpec{ContainerSpec: &swarm.ContainerSpec{}},
		Mode: swarm.ServiceMode{ReplicatedJob: &swarm.ReplicatedJob{TotalCompletions: &one}}}}
	declare(d, "web", 1)
	obs = observed{services: map[string]swarm.Service{"web": job}, nodes: nodes, tasks: map[string][]swarm.Task{"web": {
		task("failed", 0, "1", swarm.TaskStateFailed, swarm.TaskStateShutdown, t0),
		task("done", 0, "2", swarm.TaskStateComplete, swarm.TaskStateComplete, t0.Add(time.Second)),
	}}}
	rows = d.rows(obs, []string{"web"}, t0.Add(time.Minute))
	if len(rows) != 1 || !rows[0].Ready || rows[0].Reason != "completed" || rows[0].Container != "p_web.0" {
		t.Errorf("job retried on another node: %+v", rows)
	}
}

// TestRowsVerdict pins the readiness rule on a swarm: a task counts only
// when it runs on a Ready node, has passed its healthcheck (the swarm
// reports it running only then) or kept running for the settle window,
// and each declared slot has its own row — missing when the swarm has no
// task for it.
func TestRowsVerdict(t *testing.T) {
	nodes := map[string]swarm.Node{"1": node("1", "node1", swarm.NodeStateReady), "2": node("2", "node2", swarm.NodeStateDown), "3": node("3", "node3", swarm.NodeStateReady)}
	now := t0.Add(time.Minute)
	cases := []struct {
		name    string
		svc     swarm.Service
		tasks   []swarm.Task
		ready   bool
		reasons []string // per row, "" for ready
	}{
		{"all running and healthy", replicated(2, true), []swarm.Task{
			task("a", 1, "1", swarm.TaskStateRunning, swarm.TaskStateRunning, t0),
			task("b", 2, "3", swarm.TaskStateRunning, swarm.TaskStateRunning, t0),
		}, true, []string{"", ""}},
		{"a task on a Down node is not ready, whatever the manager last heard", replicated(2, true), []swarm.Task{
			task("a", 1, "1", swarm.TaskStateRunning, swarm.TaskStateRunning, t0),
			task("b", 2, "2", swarm.TaskStateRunning, swarm.TaskStateRunning, t0),
		}, false, []string{"", "node node2 is down"}},
		{"a slot without a task is a missing row", replicated(3, true), []swarm.Task{
			task("a", 1, "1", swarm.TaskStateRunning, swarm.TaskStateRunning, t0),
			task("b", 2, "3", swarm.TaskStateRunning, swarm.TaskStateRunning, t0),
		}, false, []string{"", "", "missing: the swarm has no task for it"}},
		{"a replacement starting stands for its slot, not the failed task before it", replicated(1, true), []swarm.Task{
			task("old", 1, "1", swarm.TaskStateFailed, swarm.TaskStateShutdown, t0),
			task("new", 1, "3", swarm.TaskStateStarting, swarm.TaskStateRunning, t0.Add(time.Second)),
		}, false, []string{"task starting"}},
		{"without a healthcheck, running less than the settle window is not ready", replicated(1, false), []swarm.Task{
			task("a", 1, "1", swarm.TaskStateRunning, swarm.TaskStateRunning, now.Add(-target.SettleWindow/2)),
		}, false, []string{"running for less than 1s"}},
		{"a task being shut down is not ready even while it runs", replicated(1, true), []swarm.Task{
			task("a", 1, "1", swarm.TaskStateRunning, swarm.TaskStateShutdown, t0),
		}, false, []string{"task running (the swarm wants it shutdown)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := deploymentOf("web")
			declare(d, "web", int(*c.svc.Spec.Mode.Replicated.Replicas))
			obs := observed{services: map[string]swarm.Service{"web": c.svc}, tasks: map[string][]swarm.Task{"web": c.tasks}, nodes: nodes}
			rows := d.rows(obs, []string{"web"}, now)
			if got := allReady(rows); got != c.ready {
				t.Errorf("allReady = %v, want %v", got, c.ready)
			}
			if len(rows) != len(c.reasons) {
				t.Fatalf("%d rows, want %d: %+v", len(rows), len(c.reasons), rows)
			}
			for i, r := range rows {
				if r.Reason != c.reasons[i] || r.Ready != (c.reasons[i] == "") {
					t.Errorf("row %d: ready %v reason %q, want reason %q", i, r.Ready, r.Reason, c.reasons[i])
				}
				if r.Number != i+1 {
					t.Errorf("row %d: number %d", i, r.Number)
				}
			}
		})
	}
}

// TestRowsServiceMissing: a declared service the swarm does not have is
// one missing row per declared replica, and the deployment is not healthy.
func TestRowsServiceMissing(t *testing.T) {
	d := deploymentOf("web")
	rows := d.rows(observed{services: map[string]swarm.Service{}, tasks: map[string][]swarm.Task{}, nodes: map[string]swarm.Node{}}, []string{"web"}, t0)
	if len(rows) != 1 || rows[0].State != target.StateMissing || !strings.Contains(rows[0].Reason, "no swarm service p_web") || allReady(rows) {
		t.Fatalf("rows = %+v", rows)
	}
}

// TestDependencyOrder: dependencies come first, ties in natural order.
func TestDependencyOrder(t *testing.T) {
	d := deploymentOf("web", "db", "cache", "node10", "node2")
	web := d.project.Services["web"]
	web.DependsOn = types.DependsOnConfig{"db": {Condition: types.ServiceConditionHealthy}, "cache": {Condition: types.ServiceConditionStarted}}
	d.project.Services["web"] = web
	got, err := d.selected(nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, " ") != "cache db node2 node10 web" {
		t.Errorf("order = %v", got)
	}
	got, _ = d.selected([]string{"web"}, true)
	if strings.Join(got, " ") != "cache db web" {
		t.Errorf("web with deps = %v", got)
	}
	if _, err := d.selected([]string{"nope"}, true); err == nil || !strings.Contains(err.Error(), `no service "nope" in project "p"`) {
		t.Errorf("unknown service: %v", err)
	}
}

// TestRowsProbedHealth: a task whose healthcheck opdeploy runs is ready
// only once that healthcheck passed, and says why not before.
func TestRowsProbedHealth(t *testing.T) {
	d := deploymentOf("web")
	declare(d, "web", 2)
	nodes := map[string]swarm.Node{"1": node("1", "node1", swarm.NodeStateReady)}
	svc := replicated(2, false)
	tasks := []swarm.Task{
		task("a", 1, "1", swarm.TaskStateRunning, swarm.TaskStateRunning, t0),
		task("b", 2, "1", swarm.TaskStateRunning, swarm.TaskStateRunning, t0),
	}
	obs := observed{services: map[string]swarm.Service{"web": svc}, tasks: map[string][]swarm.Task{"web": tasks}, nodes: nodes,
		health: map[string]taskHealth{"a": {target.HealthHealthy, ""}, "b": {target.HealthStarting, "healthcheck has not passed yet: connection refused"}}}
	rows := d.rows(obs, []string{"web"}, t0.Add(time.Minute))
	if !rows[0].Ready || rows[0].Health != target.HealthHealthy {
		t.Errorf("row a: %+v", rows[0])
	}
	if rows[1].Ready || rows[1].Health != target.HealthStarting || rows[1].Reason != "healthcheck has not passed yet: connection refused" {
		t.Errorf("row b: %+v", rows[1])
	}
	s := types.ServiceConfig{Name: "web"}
	s.HealthCheck = &types.HealthCheckConfig{Test: []string{"CMD", "true"}}
	for _, c := range []struct {
		p    probeState
		seen bool
		want target.Health
	}{
		{probeState{}, false, target.HealthStarting},
		{probeState{fails: 5}, true, target.HealthStarting},
		{probeState{passed: true, fails: 2}, true, target.HealthHealthy},
		{probeState{passed: true, fails: 3, output: "boom"}, true, target.HealthUnhealthy},
	} {
		if h, _ := probedHealth(s, c.p, c.seen); h != c.want {
			t.Errorf("%+v seen %v: %s, want %s", c.p, c.seen, h, c.want)
		}
	}
}
