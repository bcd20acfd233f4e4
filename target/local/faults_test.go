package local

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/opdeploy/opdeploy/target"
)

func TestPlanNetworkFault(t *testing.T) {
	byService := map[string][]faultTarget{
		"a": {{Name: "p-a-1", Service: "a", Addrs: []string{"10.0.0.1"}}},
		"b": {{Name: "p-b-1", Service: "b", Addrs: []string{"10.0.0.2"}}, {Name: "p-b-2", Service: "b", Addrs: []string{"10.0.0.3", "10.1.0.3"}}},
		"c": {{Name: "p-c-1", Service: "c", Addrs: []string{"10.0.0.4"}}},
	}
	for _, c := range []struct {
		name string
		spec target.FaultSpec
		want string // container: rules, one plan a line
	}{
		{"delay everything", target.FaultSpec{Kind: target.FaultDelay, Service: "a", Delay: time.Second},
			"p-a-1: [queue]"},
		{"delay to", target.FaultSpec{Kind: target.FaultDelay, Service: "a", Delay: time.Second, To: []string{"b"}},
			"p-a-1: [queue>10.0.0.2 queue>10.0.0.3 queue>10.1.0.3]"},
		{"loss on every replica", target.FaultSpec{Kind: target.FaultLoss, Service: "b", Percent: 30},
			"p-b-1: [drop@0.3]\np-b-2: [drop@0.3]"},
		{"loss of 0 adds no rule", target.FaultSpec{Kind: target.FaultLoss, Service: "a", Percent: 0},
			"p-a-1: []"},
		{"partition cuts each side", target.FaultSpec{Kind: target.FaultPartition, Groups: [][]string{{"a"}, {"b"}}},
			"p-a-1: [drop>10.0.0.2 drop>10.0.0.3 drop>10.1.0.3]\np-b-1: [drop>10.0.0.1]\np-b-2: [drop>10.0.0.1]"},
		{"three groups", target.FaultSpec{Kind: target.FaultPartition, Groups: [][]string{{"a"}, {"b"}, {"c"}}},
			"p-a-1: [drop>10.0.0.2 drop>10.0.0.3 drop>10.1.0.3 drop>10.0.0.4]\np-b-1: [drop>10.0.0.1 drop>10.0.0.4]\np-b-2: [drop>10.0.0.1 drop>10.0.0.4]\np-c-1: [drop>10.0.0.1 drop>10.0.0.2 drop>10.0.0.3 drop>10.1.0.3]"},
		{"block is one side only", target.FaultSpec{Kind: target.FaultBlock, Service: "c", To: []string{"a"}},
			"p-c-1: [drop>10.0.0.1]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var lines []string
			for _, p := range planNetworkFault("0a0b0c0d", c.spec, byService) {
				if p.Spec.Chain != "OPD-0a0b0c0d" {
					t.Errorf("chain %q", p.Spec.Chain)
				}
				if err := p.Spec.Validate(); err != nil {
					t.Errorf("%s: %v", p.Target.Name, err)
				}
				var rules []string
				for _, r := range p.Spec.Rules {
					s := string(r.Action)
					if r.Probability > 0 && r.Probability < 1 {
						s += fmt.Sprintf("@%g", r.Probability)
					}
					if r.Dest != "" {
						s += ">" + r.Dest
					}
					rules = append(rules, s)
				}
				lines = append(lines, p.Target.Name+": ["+strings.Join(rules, " ")+"]")
			}
			if got := strings.Join(lines, "\n"); got != c.want {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}

func TestQueueNumberIsInRange(t *testing.T) {
	for _, id := range []string{"00000000", "ffffffff", "fde80000", "bad"} {
		if q := queueNumber(id); q < 1 || q > 65000 {
			t.Errorf("queueNumber(%q) = %d", id, q)
		}
	}
	if queueNumber("0a0b0c0d") == queueNumber("0a0c0c0d") {
		t.Error("different IDs, same queue")
	}
}

func TestHostPathOf(t *testing.T) {
	mounts := []mountPoint{{"/var/lib/docker/volumes/v/_data", "/var/lib/etcd"}, {"/srv/x", "/var/lib/etcd/wal"}, {"", "/tmpfs"}}
	for p, want := range map[string]string{
		"/var/lib/etcd/.opdeploy-fill-1":     "/var/lib/docker/volumes/v/_data/.opdeploy-fill-1",
		"/var/lib/etcd/wal/.opdeploy-fill-1": "/srv/x/.opdeploy-fill-1",
		"/var/lib/etcdx/.f":                  "",
		"/tmpfs/.f":                          "",
	} {
		if got := hostPathOf(mounts, p); got != want {
			t.Errorf("hostPathOf(%q) = %q, want %q", p, got, want)
		}
	}
}

func TestInForce(t *testing.T) {
	net := faultRecord{Fault: target.Fault{Kind: target.FaultPartition}, TargetStarted: "t1", Running: true}
	delay := faultRecord{Fault: target.Fault{Kind: target.FaultDelay}, TargetStarted: "t1"}
	limit := faultRecord{Fault: target.Fault{Kind: target.FaultLimit}}
	for _, c := range []struct {
		name string
		r    faultRecord
		t    targetNow
		want bool
	}{
		{"network, same start", net, targetNow{Exists: true, Running: true, StartedAt: "t1"}, true},
		{"network, restarted", net, targetNow{Exists: true, Running: true, StartedAt: "t2"}, false},
		{"network, stopped", net, targetNow{Exists: true, StartedAt: "t1"}, false},
		{"network, removed", net, targetNow{}, false},
		{"network, helper never started", faultRecord{Fault: target.Fault{Kind: target.FaultBlock}, TargetStarted: "t1", NeverStarted: true}, targetNow{Exists: true, Running: true, StartedAt: "t1"}, false},
		{"delay without its helper", delay, targetNow{Exists: true, Running: true, StartedAt: "t1"}, false},
		{"limit survives a restart", limit, targetNow{Exists: true, Running: true, StartedAt: "t9"}, true},
		{"limit, removed", limit, targetNow{}, false},
	} {
		if got, why := inForce(c.r, c.t); got != c.want {
			t.Errorf("%s: inForce = %v (%s), want %v", c.name, got, why, c.want)
		}
	}
}
