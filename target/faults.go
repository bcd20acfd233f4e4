package target

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Faulter is what a target offers to break a running deployment on
// purpose and mend it again: network delay and loss, partitions between
// groups of services, one-way cuts, full disks, CPU and memory limits
// (docs/faults.md). A target that cannot do faults does not implement it,
// and the sequence or command that asks says so. Faults are recorded with
// the engine, so that another process (status, heal, down) sees them; a
// fault whose effect is no longer in force is never listed as active.
type Faulter interface {
	// Apply puts a fault in force on every container of the services it
	// names, and returns what it recorded (one record per container).
	Apply(ctx context.Context, spec FaultSpec) ([]Fault, error)
	// Heal removes the faults on the services (all faults when none are
	// named): network rules, filler files, limits back to the deployment's
	// own. It returns what it healed. A fault that cannot be healed is an
	// error naming the container and what remains.
	Heal(ctx context.Context, opts HealOptions) ([]Fault, error)
	// Faults lists the faults in force, oldest first.
	Faults(ctx context.Context) ([]Fault, error)
}

// FaultKind names a kind of fault, as users type it (ctx.delay,
// `opdeploy fault FILE delay ...`).
type FaultKind string

const (
	FaultDelay     FaultKind = "delay"
	FaultLoss      FaultKind = "loss"
	FaultPartition FaultKind = "partition"
	FaultBlock     FaultKind = "block"
	FaultFillDisk  FaultKind = "fill_disk"
	FaultLimit     FaultKind = "limit"
)

// FaultKinds lists every kind, in the order the docs present them.
var FaultKinds = []FaultKind{FaultDelay, FaultLoss, FaultPartition, FaultBlock, FaultFillDisk, FaultLimit}

// FaultSpec says what fault to apply. Which fields count depends on Kind:
//
//	delay      Service, Delay, Jitter, To
//	loss       Service, Percent, To
//	partition  Groups (two or more; a service in at most one)
//	block      Service (from), To (exactly one service)
//	fill_disk  Service, Path, Leave
//	limit      Service, CPUs and/or Memory
type FaultSpec struct {
	Kind    FaultKind
	Service string
	To      []string // delay, loss: only toward these services; block: the one service cut off
	Groups  [][]string
	Delay   time.Duration
	Jitter  time.Duration
	Percent float64 // 0 to 100
	Path    string
	Leave   uint64  // bytes left free
	CPUs    float64 // 0: unchanged
	Memory  uint64  // bytes; 0: unchanged
}

// HealOptions controls Faulter.Heal.
type HealOptions struct {
	Services []string // only faults on these services; empty means all
	IDs      []string // only these faults (Fault.ID); empty means all
}

// Fault is one fault in force on one container.
type Fault struct {
	ID        string // the same for every container one Apply touched
	Kind      FaultKind
	Service   string
	Container string
	// Args are the fault's arguments as the user gave them, briefly:
	// "300ms ±50ms to etcd1", "30%", "etcd0 | etcd1 etcd2".
	Args  string
	Since time.Time
}

// Validate checks a spec against the services a deployment has, before
// anything is touched: an unknown service, a percent outside 0–100, a
// negative delay. Targets call it, and so does the engine, so that the
// error is reported at the sequence's position.
func (s FaultSpec) Validate(services []string) error {
	known := map[string]bool{}
	for _, name := range services {
		known[name] = true
	}
	check := func(names ...string) error {
		for _, n := range names {
			if !known[n] {
				return fmt.Errorf("service %q is not in the deployment (services: %s)", n, strings.Join(services, ", "))
			}
		}
		return nil
	}
	switch s.Kind {
	case FaultDelay, FaultLoss:
		if err := check(append([]string{s.Service}, s.To...)...); err != nil {
			return err
		}
		if s.Kind == FaultDelay && (s.Delay < 0 || s.Jitter < 0) {
			return fmt.Errorf("delay and jitter must not be negative (got %s ± %s)", s.Delay, s.Jitter)
		}
		if s.Kind == FaultDelay && s.Delay == 0 {
			return fmt.Errorf("a delay of 0 changes nothing")
		}
		if s.Jitter > s.Delay {
			return fmt.Errorf("jitter %s must not exceed the delay %s", s.Jitter, s.Delay)
		}
		if s.Kind == FaultLoss && (s.Percent < 0 || s.Percent > 100) {
			return fmt.Errorf("percent must be from 0 to 100, got %v", s.Percent)
		}
	case FaultPartition:
		if len(s.Groups) < 2 {
			return fmt.Errorf("a partition needs at least two groups, got %d", len(s.Groups))
		}
		seen := map[string]int{}
		for i, g := range s.Groups {
			if len(g) == 0 {
				return fmt.Errorf("group %d is empty", i+1)
			}
			if err := check(g...); err != nil {
				return err
			}
			for _, n := range g {
				if j, dup := seen[n]; dup {
					return fmt.Errorf("service %q is in group %d and group %d", n, j+1, i+1)
				}
				seen[n] = i
			}
		}
	case FaultBlock:
		if len(s.To) != 1 {
			return fmt.Errorf("block cuts one service off another")
		}
		if err := check(s.Service, s.To[0]); err != nil {
			return err
		}
		if s.Service == s.To[0] {
			return fmt.Errorf("block %s from itself changes nothing", s.Service)
		}
	case FaultFillDisk:
		if err := check(s.Service); err != nil {
			return err
		}
		if !strings.HasPrefix(s.Path, "/") {
			return fmt.Errorf("path %q must be absolute (a path in the container)", s.Path)
		}
	case FaultLimit:
		if err := check(s.Service); err != nil {
			return err
		}
		if s.CPUs == 0 && s.Memory == 0 {
			return fmt.Errorf("give cpus, memory or both")
		}
		if s.CPUs < 0 || (s.CPUs > 0 && s.CPUs < 0.01) {
			return fmt.Errorf("cpus must be at least 0.01, got %v", s.CPUs)
		}
		if s.Memory > 0 && s.Memory < MinMemoryLimit {
			return fmt.Errorf("memory must be at least 6MiB (the engine's minimum), got %d bytes", s.Memory)
		}
	default:
		return fmt.Errorf("unknown fault kind %q (kinds: %s)", s.Kind, kindList())
	}
	return nil
}

// MinMemoryLimit is the smallest memory limit the Docker engine accepts.
const MinMemoryLimit = 6 << 20

func kindList() string {
	var names []string
	for _, k := range FaultKinds {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// Services are the services the fault acts on or toward.
func (s FaultSpec) Services() []string {
	out := []string{}
	if s.Service != "" {
		out = append(out, s.Service)
	}
	out = append(out, s.To...)
	for _, g := range s.Groups {
		out = append(out, g...)
	}
	return out
}

// Brief is the fault's arguments as a status line shows them.
func (s FaultSpec) Brief() string {
	to := ""
	if len(s.To) > 0 {
		to = " to " + strings.Join(s.To, ",")
	}
	switch s.Kind {
	case FaultDelay:
		j := ""
		if s.Jitter > 0 {
			j = " ±" + s.Jitter.String()
		}
		return s.Delay.String() + j + to
	case FaultLoss:
		return strconv.FormatFloat(s.Percent, 'f', -1, 64) + "%" + to
	case FaultPartition:
		var gs []string
		for _, g := range s.Groups {
			gs = append(gs, strings.Join(g, ","))
		}
		return strings.Join(gs, " | ")
	case FaultBlock:
		return "to " + strings.Join(s.To, ",")
	case FaultFillDisk:
		return fmt.Sprintf("%s leave %d", s.Path, s.Leave)
	case FaultLimit:
		var parts []string
		if s.CPUs > 0 {
			parts = append(parts, "cpus="+strconv.FormatFloat(s.CPUs, 'f', -1, 64))
		}
		if s.Memory > 0 {
			parts = append(parts, fmt.Sprintf("memory=%d", s.Memory))
		}
		return strings.Join(parts, " ")
	}
	return ""
}
