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
	ops := d.plan(obs, []string{"cache", "db", "web"}, ids, target.UpOptions{})
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
	ops = d.plan(obs, []string{"web"}, ids, target.UpOptions{})
	if len(ops) != 1 || ops[0].kind != opUpdate || ops[0].rolls {
		t.Errorf("scale change: %v rolls %v", ops, ops[0].rolls)
	}

	ops = d.plan(obs, []string{"web"}, ids, target.UpOptions{RemoveOrphans: true, ForceRecreate: true})
	if len(ops) != 2 || ops[0].kind != opRemoveOrphan || ops[1].kind != opUpdate || ops[1].String() != "update service p_web (--force-recreate)" {
		t.Errorf("ops = %v", ops)
	}
}
