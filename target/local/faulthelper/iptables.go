package faulthelper

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

// Backends are the iptables programs the helper image may carry, tried in
// this order: nftables first (the kernels of current distributions may
// lack the legacy tables), legacy when nftables does not work here.
var Backends = []string{"/usr/sbin/xtables-nft-multi", "/usr/sbin/xtables-legacy-multi"}

// iptables runs one backend's iptables.
type iptables struct{ bin string }

func (t iptables) run(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, t.bin, append([]string{"iptables", "-w"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("iptables %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// chooseBackend returns the first backend that can read the filter table
// of this network namespace.
func chooseBackend(ctx context.Context) (iptables, error) {
	var errs []string
	for _, bin := range Backends {
		if _, err := os.Stat(bin); err != nil {
			continue
		}
		t := iptables{bin}
		if err := t.run(ctx, "-t", "filter", "-S", "OUTPUT"); err != nil {
			errs = append(errs, err.Error())
			continue
		}
		return t, nil
	}
	if len(errs) == 0 {
		return iptables{}, fmt.Errorf("no iptables program in the helper image (looked for %s)", strings.Join(Backends, ", "))
	}
	return iptables{}, fmt.Errorf("no iptables backend works in this network namespace: %s", strings.Join(errs, "; "))
}

// install adds the spec's chain and rules, then the jump to them, so that
// no packet meets half a fault.
func (t iptables) install(ctx context.Context, s Spec) error {
	if err := t.run(ctx, "-N", s.Chain); err != nil {
		return err
	}
	for _, r := range s.Rules {
		if err := t.run(ctx, s.ruleArgs(r)...); err != nil {
			return err
		}
	}
	return t.run(ctx, s.jumpArgs("-I")...)
}

// remove takes the chain out, whatever part of it exists: the jump first,
// so that no packet is sent to a chain being emptied. It reports what it
// could not remove.
func (t iptables) remove(ctx context.Context, s Spec) error {
	if !t.hasChain(ctx, s.Chain) {
		return nil
	}
	for i := 0; i < 16 && t.run(ctx, s.jumpArgs("-D")...) == nil; i++ {
	}
	if err := t.run(ctx, "-F", s.Chain); err != nil {
		return err
	}
	if err := t.run(ctx, "-X", s.Chain); err != nil {
		return fmt.Errorf("chain %s remains: %w", s.Chain, err)
	}
	return nil
}

func (t iptables) hasChain(ctx context.Context, chain string) bool {
	return t.run(ctx, "-S", chain) == nil
}
