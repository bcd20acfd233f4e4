package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// Scenarios (g) and (h): faults on a 3-node cluster of the test service.
// (g) times `opdeploy fault` and `opdeploy heal` for each kind, as a user
// runs them (a process each); (h) what a fault costs a sequence's own
// bookkeeping: a sequence that applies a delay and heals it itself, against
// one that leaves the healing to the end of the sequence.

const faultsCompose = `x-node: &node
  image: ` + image + `
  tmpfs: ["/data:size=16m"]
services:
  node0: *node
  node1: *node
  node2: *node
`

const faultsSubject = `subject(name = "benchfaults", target = local_deployment(compose = "compose.yaml"))

def healed_by_hand(ctx):
    ctx.delay("node0", "1ms")
    ctx.heal("node0")

def healed_at_end(ctx):
    ctx.delay("node0", "1ms")

sequence("by-hand", healed_by_hand)
sequence("at-end", healed_at_end)
`

// faultKinds are each kind's arguments to `opdeploy fault`.
var faultKinds = []struct{ kind, args []string }{
	{[]string{"delay"}, []string{"node0", "100ms"}},
	{[]string{"loss"}, []string{"node0", "30"}},
	{[]string{"partition"}, []string{"node0", "node1,node2"}},
	{[]string{"block"}, []string{"node0", "node1"}},
	{[]string{"fill_disk"}, []string{"node0", "/data"}},
	{[]string{"limit"}, []string{"node0", "cpus=0.5"}},
}

func (b *bench) prepareFaults() error {
	for name, content := range map[string]string{"faults/compose.yaml": faultsCompose, "faults/subject.star": faultsSubject} {
		path := filepath.Join(b.dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) faultScenarios() {
	if !containsAny(scenarioFilter, "gh") {
		return
	}
	up := b.opdeploy("faults", "up", "subject.star")
	down := b.opdeploy("faults", "down", "subject.star")
	heal := b.opdeploy("faults", "heal", "subject.star")
	if err := up(); err != nil {
		fmt.Fprintln(os.Stderr, "faults cluster:", err)
		return
	}
	defer down()
	// The first fault builds the helper image: not what is measured.
	warm := b.opdeploy("faults", "fault", "subject.star", "delay", "node0", "1ms")
	_ = warm()
	_ = heal()
	for _, k := range faultKinds {
		apply := b.opdeploy("faults", append([]string{"fault", "subject.star", k.kind[0]}, k.args...)...)
		scenario := fmt.Sprintf("(g) %s, 3 nodes", k.kind[0])
		b.measure(scenario, "opdeploy fault", nil, apply, heal)
		b.measure(scenario, "opdeploy heal", apply, heal, nil)
	}
	overhead := "(h) a fault in a sequence, 3 nodes"
	b.measure(overhead, "run: delay, ctx.heal", nil, b.opdeploy("faults", "run", "subject.star", "by-hand"), nil)
	b.measure(overhead, "run: delay, healed at the end", nil, b.opdeploy("faults", "run", "subject.star", "at-end"), nil)
}

func containsAny(s, letters string) bool {
	for _, l := range letters {
		for _, c := range s {
			if c == l {
				return true
			}
		}
	}
	return false
}
