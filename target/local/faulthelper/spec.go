// Package faulthelper is the program that puts network faults in force
// inside a container's network namespace. opdeploy runs it as its own
// hidden `fault-helper` command in a helper container that shares the
// target's network namespace (docs/faults.md): the target's image needs
// no tools, and the helper holds the fault (its rules, and for a delay the
// queue it holds packets in) for as long as it runs. Stopped with SIGTERM,
// it removes what it added and exits 0.
package faulthelper

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// Spec is what one helper puts in force: rules in a chain of its own,
// jumped to from OUTPUT for every packet that leaves the container (not
// loopback), and, when a rule queues packets, the delay they are held for.
type Spec struct {
	Chain  string        `json:"chain"`
	Rules  []Rule        `json:"rules,omitempty"`
	Queue  uint16        `json:"queue,omitempty"`
	Delay  time.Duration `json:"delay,omitempty"`
	Jitter time.Duration `json:"jitter,omitempty"`
	// Clear only removes the chain (what a helper that died left behind).
	Clear bool `json:"clear,omitempty"`
	// Hold only waits to be stopped: a full disk's record, which keeps the
	// target's volumes mounted (a tmpfs volume is emptied once no running
	// container mounts it) and through which heal reaches the filler when
	// the target is stopped.
	Hold bool `json:"hold,omitempty"`
}

// Rule matches packets leaving the container, to Dest when set (an IPv4
// address), with Probability when between 0 and 1 exclusive (1 or 0 mean
// every packet), and drops or queues them.
type Rule struct {
	Dest        string  `json:"dest,omitempty"`
	Probability float64 `json:"probability,omitempty"`
	Action      Action  `json:"action"`
}

// Action is what a rule does with the packets it matches.
type Action string

const (
	Drop  Action = "drop"
	Queue Action = "queue" // held for Spec.Delay ± Spec.Jitter, then let through
)

// ReadyLine is what the helper prints once its fault is in force;
// HealedLine once it removed it.
const (
	ReadyLine  = "opdeploy-fault-helper: in force"
	HealedLine = "opdeploy-fault-helper: removed"
)

var chainName = regexp.MustCompile(`^OPD-[0-9a-z-]{1,24}$`)

// Validate refuses a spec the helper could not apply as asked.
func (s Spec) Validate() error {
	if s.Hold {
		return nil
	}
	if !chainName.MatchString(s.Chain) {
		return fmt.Errorf("chain %q: want OPD- and up to 24 of [0-9a-z-]", s.Chain)
	}
	for i, r := range s.Rules {
		switch r.Action {
		case Drop:
		case Queue:
			if s.Delay <= 0 {
				return fmt.Errorf("rule %d queues packets but the delay is %s", i, s.Delay)
			}
		default:
			return fmt.Errorf("rule %d: unknown action %q", i, r.Action)
		}
		if r.Probability < 0 || r.Probability > 1 {
			return fmt.Errorf("rule %d: probability %v outside 0-1", i, r.Probability)
		}
	}
	if s.Jitter < 0 || s.Jitter > s.Delay && s.Delay > 0 {
		return fmt.Errorf("jitter %s must be between 0 and the delay %s", s.Jitter, s.Delay)
	}
	return nil
}

// Encode is the spec as the helper's one argument.
func (s Spec) Encode() string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Decode reads the helper's argument.
func Decode(arg string) (Spec, error) {
	var s Spec
	if err := json.Unmarshal([]byte(arg), &s); err != nil {
		return s, fmt.Errorf("fault spec: %w", err)
	}
	return s, s.Validate()
}

// ruleArgs are the iptables arguments that append r to chain.
func (s Spec) ruleArgs(r Rule) []string {
	args := []string{"-A", s.Chain}
	if r.Dest != "" {
		args = append(args, "-d", r.Dest)
	}
	if r.Probability > 0 && r.Probability < 1 {
		args = append(args, "-m", "statistic", "--mode", "random", "--probability", strconv.FormatFloat(r.Probability, 'f', 6, 64))
	}
	switch r.Action {
	case Queue:
		args = append(args, "-j", "NFQUEUE", "--queue-num", strconv.Itoa(int(s.Queue)), "--queue-bypass")
	default:
		args = append(args, "-j", "DROP")
	}
	return args
}

// jumpArgs are the arguments of the rule that sends every packet leaving
// the container (loopback excepted: a service talking to itself is not
// the network under test) to the chain; op is -I or -D.
func (s Spec) jumpArgs(op string) []string {
	if op == "-I" {
		return []string{"-I", "OUTPUT", "1", "!", "-o", "lo", "-j", s.Chain}
	}
	return []string{op, "OUTPUT", "!", "-o", "lo", "-j", s.Chain}
}
