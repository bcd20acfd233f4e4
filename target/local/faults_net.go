package local

import (
	"encoding/binary"
	"encoding/hex"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/local/faulthelper"
)

// faultTarget is a container a fault acts on or toward: its addresses on
// the project's networks.
type faultTarget struct {
	ID, Name, Service string
	Addrs             []string // IPv4
	StartedAt         string   // the engine's State.StartedAt: a restart replaces the network namespace
	Pid               int
}

// helperPlan is what one helper container puts in force in one target
// container's network namespace.
type helperPlan struct {
	Target faultTarget
	Spec   faulthelper.Spec
}

// planNetworkFault computes, without any API call, the rules each
// container gets: every rule drops or delays packets a container sends,
// so a fault between two services is a rule on the sending side.
//
//	delay, loss  on every container of the service: all its packets, or
//	             those to the addresses of the `to` services
//	partition    on every container of every group: packets to the
//	             addresses of every other group (both directions are cut,
//	             since each side drops what it sends)
//	block        on every container of the first service: packets to the
//	             second's addresses (the reverse still flows)
func planNetworkFault(id string, spec target.FaultSpec, byService map[string][]faultTarget) []helperPlan {
	base := faulthelper.Spec{Chain: "OPD-" + id}
	addrsOf := func(services ...string) []string {
		var out []string
		for _, s := range services {
			for _, c := range byService[s] {
				out = append(out, c.Addrs...)
			}
		}
		return out
	}
	rulesTo := func(dests []string, all bool, r faulthelper.Rule) []faulthelper.Rule {
		if all {
			return []faulthelper.Rule{r}
		}
		var out []faulthelper.Rule
		for _, d := range dests {
			r.Dest = d
			out = append(out, r)
		}
		return out
	}
	var plans []helperPlan
	switch spec.Kind {
	case target.FaultDelay, target.FaultLoss:
		s := base
		r := faulthelper.Rule{Action: faulthelper.Drop, Probability: spec.Percent / 100}
		if spec.Kind == target.FaultDelay {
			s.Queue, s.Delay, s.Jitter = queueNumber(id), spec.Delay, spec.Jitter
			r = faulthelper.Rule{Action: faulthelper.Queue}
		}
		if spec.Kind == target.FaultLoss && spec.Percent == 0 {
			r.Probability = -1 // marker: no rule at all
		}
		if r.Probability >= 0 {
			s.Rules = rulesTo(addrsOf(spec.To...), len(spec.To) == 0, r)
		}
		for _, c := range byService[spec.Service] {
			plans = append(plans, helperPlan{Target: c, Spec: s})
		}
	case target.FaultPartition:
		for i, g := range spec.Groups {
			var others []string
			for j, o := range spec.Groups {
				if j != i {
					others = append(others, o...)
				}
			}
			s := base
			s.Rules = rulesTo(addrsOf(others...), false, faulthelper.Rule{Action: faulthelper.Drop})
			for _, svc := range g {
				for _, c := range byService[svc] {
					plans = append(plans, helperPlan{Target: c, Spec: s})
				}
			}
		}
	case target.FaultBlock:
		s := base
		s.Rules = rulesTo(addrsOf(spec.To...), false, faulthelper.Rule{Action: faulthelper.Drop})
		for _, c := range byService[spec.Service] {
			plans = append(plans, helperPlan{Target: c, Spec: s})
		}
	}
	return plans
}

// queueNumber is the netfilter queue a delay uses, from the fault's ID, so
// that two delays on one container use different queues.
func queueNumber(id string) uint16 {
	b, err := hex.DecodeString(id)
	if err != nil || len(b) < 2 {
		return 1
	}
	return binary.BigEndian.Uint16(b)%65000 + 1
}

func isNetworkFault(k target.FaultKind) bool {
	switch k {
	case target.FaultDelay, target.FaultLoss, target.FaultPartition, target.FaultBlock:
		return true
	}
	return false
}
