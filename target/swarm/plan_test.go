package swarm

import (
	"testing"

	"github.com/moby/moby/api/types/swarm"

	"github.com/opdeploy/opdeploy/target"
)

// TestPlan: up creates what the swarm lacks, updates what changed (the
// config hash differs, or a loaded image was rebuilt), keeps the rest, and
// removes orphans only when asked.
func TestPlan(t *testing.T) {
	d := deploymentOf("web", "db", "cache")
	for _, n := range []string{"web", "db", "cache"} {
		s := d.project.Services[n]
		s.Image = "img:1"
		d.project.Services[n] = s
	}
	ids := map[string]string{"img:1": "sha256:aaa"}
	current := func(name string, ids map[string]string) swarm.Service {
		return swarm.Service{ID: name, Spec: d.desiredSpec(name, ids)}
	}
	obs := observed{services: map[string]swarm.Service{
		"web": current("web", ids),
		"db":  current("db", map[string]string{"img:1": "sha256:old"}), // image rebuilt since
	}, orphans: []swarm.Service{{ID: "gone", Spec: swarm.ServiceSpec{Annotations: swarm.Annotations{Name: "p_gone"}}}}}
	want := map[string]opKind{"web": opKeep, "db": opUpdate, "cache": opCreate}
	ops := d.plan(obs, []string{"cache", "db", "web"}, ids, nil, target.UpOptions{})
	if len(ops) != 3 {
		t.Fatalf("ops = %v", ops)
	}
	for _, o := range ops {
		if o.kind != want[o.service] {
			t.Errorf("%s: %s", o.service, o)
		}
	}
	for _, o := range ops {
		if o.rolls != (o.service == "db") {
			t.Errorf("%s: rolls = %v", o.service, o.rolls)
		}
	}

	// A new replica count updates the service without rolling its tasks.
	web := d.project.Services["web"]
	web.Scale = new(5)
	d.project.Services["web"] = web
	ops = d.plan(obs, []string{"web"}, ids, nil, target.UpOptions{})
	if len(ops) != 1 || ops[0].kind != opUpdate || ops[0].rolls {
		t.Errorf("scale change: %v rolls %v", ops, ops[0].rolls)
	}

	ops = d.plan(obs, []string{"web"}, ids, nil, target.UpOptions{RemoveOrphans: true, ForceRecreate: true})
	if len(ops) != 2 || ops[0].kind != opRemoveOrphan || ops[1].kind != opUpdate || ops[1].String() != "update service p_web (--force-recreate)" {
		t.Errorf("ops = %v", ops)
	}
}

// TestPlanRepairs: up makes whole what changed behind its back — a replica
// count changed by hand is set back in place; a task that ended under a
// restart policy that will not replace it is forced; a task running on a
// node that holds another version of its loaded image is rolled.
func TestPlanRepairs(t *testing.T) {
	d := deploymentOf("web")
	declare(d, "web", 2)
	web := d.project.Services["web"]
	web.Image = "img:1"
	d.project.Services["web"] = web
	spec := d.desiredSpec("web", nil)
	one := uint64(1)
	scaled := swarm.Service{ID: "web", Spec: spec}
	scaled.Spec.Mode = swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &one}}
	ops := d.plan(observed{services: map[string]swarm.Service{"web": scaled}}, []string{"web"}, nil, nil, target.UpOptions{})
	if ops[0].kind != opUpdate || ops[0].rolls {
		t.Errorf("scaled by hand: %v rolls %v", ops[0], ops[0].rolls)
	}

	none := swarm.Service{ID: "web", Spec: spec}
	none.Spec.TaskTemplate.RestartPolicy = &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionNone}
	tasks := []swarm.Task{
		task("a", 1, "1", swarm.TaskStateRunning, swarm.TaskStateRunning, t0),
		task("b", 2, "1", swarm.TaskStateFailed, swarm.TaskStateShutdown, t0),
	}
	obs := observed{services: map[string]swarm.Service{"web": none}, tasks: map[string][]swarm.Task{"web": tasks}}
	ops = d.plan(obs, []string{"web"}, nil, nil, target.UpOptions{})
	if ops[0].kind != opUpdate || !ops[0].rolls {
		t.Errorf("ended for good: %v", ops[0])
	}

	obs = observed{services: map[string]swarm.Service{"web": {ID: "web", Spec: spec}}, tasks: map[string][]swarm.Task{"web": tasks[:1]}}
	needs := []imageNeed{{node: swarm.Node{ID: "1"}, refs: []string{"img:1"}}}
	ops = d.plan(obs, []string{"web"}, nil, needs, target.UpOptions{})
	if ops[0].kind != opUpdate || !ops[0].rolls {
		t.Errorf("stale image on a node: %v", ops[0])
	}
}
