package main

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/opdeploy/opdeploy/engine"
	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/swarm"
)

// The example subjects load through the real targets, as the CLI wires them.
func loadExample(t *testing.T, file string, opts engine.Options) (*engine.Subject, error) {
	t.Helper()
	tgts, err := newTargets()
	if err != nil {
		t.Fatal(err)
	}
	opts.Resolver = tgts
	return engine.Load(context.Background(), file, opts)
}

func TestLoadExampleSubjects(t *testing.T) {
	for _, c := range []struct {
		file     string
		services int
	}{
		{"../../examples/subjects/etcd.star", 3},
		{"../../examples/subjects/tikv.star", 8},
	} {
		s, err := loadExample(t, c.file, engine.Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if got := len(s.Target.Describe().Services); got != c.services {
			t.Errorf("%s: %d services, want %d", c.file, got, c.services)
		}
		if _, ok := s.Sequence("rolling-restart"); !ok {
			t.Errorf("%s: no rolling-restart sequence", c.file)
		}
		if _, ok := s.Sequence("nope"); ok {
			t.Errorf("%s: found a sequence that does not exist", c.file)
		}
	}
}

func TestLoadParamsAndProfiles(t *testing.T) {
	s, err := loadExample(t, "../../examples/subjects/tikv.star", engine.Options{
		Params:   map[string]string{"tikv": "5", "pd": "1"},
		Profiles: []string{"load"},
	})
	if err != nil {
		t.Fatal(err)
	}
	desc := s.Target.Describe()
	if _, ok := desc.Service("ycsb"); !ok {
		t.Error("ycsb is not active with --profile load")
	}
	if _, ok := desc.Service("tikv4"); !ok {
		t.Error("tikv4 missing with tikv=5")
	}
	if _, ok := desc.Service("pd1"); ok {
		t.Error("pd1 present with pd=1")
	}
}

// The etcd example on a swarm: the same members, checks and sequences,
// found by DNS round robin (no IPVS in the lab), each publishing its client
// port on its own node and, with spread, pinned to one node. Loading
// contacts no engine.
func TestEtcdExampleOnSwarm(t *testing.T) {
	local, err := loadExample(t, "../../examples/subjects/etcd.star", engine.Options{Params: map[string]string{"nodes": "4"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		params      map[string]string
		constraints []string // of etcd0 .. etcd3; nil: none
	}{
		{map[string]string{}, []string{"node1", "node2", "node3", "node1"}},
		{map[string]string{"node_prefix": "worker", "swarm_nodes": "2"}, []string{"worker1", "worker2", "worker1", "worker2"}},
		{map[string]string{"spread": "false"}, nil},
	} {
		params := map[string]string{"target": "swarm", "endpoint": "tcp://10.0.0.1:2375", "nodes": "4"}
		for k, v := range c.params {
			params[k] = v
		}
		s, err := loadExample(t, "../../examples/subjects/etcd.star", engine.Options{Params: params})
		if err != nil {
			t.Fatalf("%v: %v", params, err)
		}
		d, ok := s.Target.(*swarm.Deployment)
		if !ok {
			t.Fatalf("%v: target %T, want a swarm deployment", params, s.Target)
		}
		if s.Swarm.Endpoint != "tcp://10.0.0.1:2375" || s.Swarm.Images != target.ImagesLoad {
			t.Errorf("%v: endpoint %q images %q", params, s.Swarm.Endpoint, s.Swarm.Images)
		}
		if len(s.Swarm.BinaryImages) != 1 || s.Swarm.BinaryImages[0].Tag != "opdeploy/etcd:debian" {
			t.Errorf("%v: binary images %+v", params, s.Swarm.BinaryImages)
		}
		for i := 0; i < 4; i++ {
			name := fmt.Sprintf("etcd%d", i)
			svc, ok := d.Compose().Services[name]
			if !ok {
				t.Fatalf("%v: no service %s", params, name)
			}
			if svc.Deploy == nil || svc.Deploy.EndpointMode != "dnsrr" {
				t.Errorf("%v: %s deploy %+v, want endpoint_mode dnsrr", params, name, svc.Deploy)
				continue
			}
			var want []string
			if c.constraints != nil {
				want = []string{"node.hostname == " + c.constraints[i]}
			}
			if got := svc.Deploy.Placement.Constraints; !reflect.DeepEqual(got, want) {
				t.Errorf("%v: %s constraints %q, want %q", params, name, got, want)
			}
			if len(svc.Ports) != 1 || svc.Ports[0].Mode != "host" || svc.Ports[0].Target != 2379 || svc.Ports[0].Published != fmt.Sprint(12379+i) {
				t.Errorf("%v: %s ports %+v", params, name, svc.Ports)
			}
		}
		// The same checks and sequences as on the local engine.
		if len(s.Checks) != len(local.Checks) || len(s.Sequences) != len(local.Sequences) {
			t.Errorf("%v: %d checks, %d sequences; local has %d, %d", params, len(s.Checks), len(s.Sequences), len(local.Checks), len(local.Sequences))
		}
	}
}

func TestEtcdExampleSwarmParams(t *testing.T) {
	for params, want := range map[string]string{
		"target=k8s":                          `target must be local or swarm, got "k8s"`,
		"endpoint=tcp://m:2375":               "endpoint: only with --set target=swarm",
		"target=swarm,spread=yes":             `spread must be true or false, got "yes"`,
		"target=swarm,endpoint=http://m:2375": `swarm_deployment: for parameter endpoint: want "unix:///path/to/docker.sock" or "tcp://host:port"`,
	} {
		p := map[string]string{}
		for _, kv := range strings.Split(params, ",") {
			k, v, _ := strings.Cut(kv, "=")
			p[k] = v
		}
		_, err := loadExample(t, "../../examples/subjects/etcd.star", engine.Options{Params: p})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", params, err, want)
		}
	}
}
