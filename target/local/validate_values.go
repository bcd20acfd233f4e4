package local

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"golang.org/x/sys/unix"
)

// minMemory is the least memory the engine lets a container have.
const minMemory = 6 << 20

// validateValues checks values the engine would refuse when it creates or
// starts a container — so they fail at the local_deployment call, not
// half-way through up: the container spec's own parsing (restart policy,
// expose, addresses), the stop signal, memory limits, and whether a port
// range has room for every replica.
func validateValues(p *types.Project, s types.ServiceConfig) error {
	spec := s
	spec.NetworkMode, spec.Ipc, spec.Pid, spec.VolumesFrom = "", "", "", nil // references resolve at create
	if _, err := buildContainerSpec(p, spec, specOptions{Number: 1}); err != nil {
		return err
	}
	if s.StopSignal != "" && !knownSignal(s.StopSignal) {
		return fmt.Errorf("service %q: stop_signal %q is not a signal (SIGTERM, TERM, 15, …)", s.Name, s.StopSignal)
	}
	for _, m := range []struct {
		key   string
		bytes types.UnitBytes
	}{{"mem_limit", s.MemLimit}, {"deploy.resources.limits.memory", memoryLimitOf(s)}} {
		if m.bytes > 0 && m.bytes < minMemory {
			return fmt.Errorf("service %q: %s %d bytes is below the engine's minimum of 6MiB", s.Name, m.key, m.bytes)
		}
	}
	for _, port := range s.Ports {
		lo, hi, ok := portRange(port.Published)
		if ok && s.NetworkMode != "host" && hi-lo+1 < s.GetScale() {
			return fmt.Errorf("service %q: %d replicas cannot share host ports %s (%d ports): widen the range", s.Name, s.GetScale(), port.Published, hi-lo+1)
		}
	}
	return nil
}

func memoryLimitOf(s types.ServiceConfig) types.UnitBytes {
	if s.Deploy == nil || s.Deploy.Resources.Limits == nil {
		return 0
	}
	return s.Deploy.Resources.Limits.MemoryBytes
}

// knownSignal accepts what the engine accepts as a stop signal: a name
// with or without SIG, or a number.
func knownSignal(sig string) bool {
	if n, err := strconv.Atoi(sig); err == nil {
		return n > 0 && n <= 64
	}
	name := strings.ToUpper(sig)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if strings.HasPrefix(name, "SIGRTMIN") || strings.HasPrefix(name, "SIGRTMAX") {
		return true
	}
	return unix.SignalNum(name) != 0
}

// portRange reads a host port range "9000-9001" (ok is false for a single
// port or none).
func portRange(published string) (lo, hi int, ok bool) {
	a, b, found := strings.Cut(published, "-")
	if !found {
		return 0, 0, false
	}
	lo, err1 := strconv.Atoi(a)
	hi, err2 := strconv.Atoi(b)
	return lo, hi, err1 == nil && err2 == nil && hi >= lo
}

// validateNames rejects two containers the project would give one name:
// two services with the same container_name, or a container_name that is
// another replica's generated name. The engine would fail the second
// create half-way through up.
func validateNames(p *types.Project, names []string) error {
	owner := map[string]string{}
	for _, name := range names {
		s := p.Services[name]
		for n := 1; n <= s.GetScale(); n++ {
			c := containerName(p.Name, s, n)
			if other, taken := owner[c]; taken {
				return fmt.Errorf("services %q and %q would both name a container %q (container_name)", other, name, c)
			}
			owner[c] = name
		}
	}
	return nil
}

// validateHealthyDependencies rejects depends_on service_healthy on a
// service whose healthcheck the file disables: it can never become
// healthy, and up would fail only once it waits.
func validateHealthyDependencies(p *types.Project, names []string) error {
	for _, name := range names {
		for _, dep := range sortedKeys(p.Services[name].DependsOn) {
			cfg := p.Services[name].DependsOn[dep]
			d, ok := p.Services[dep]
			if ok && cfg.Condition == types.ServiceConditionHealthy && d.HealthCheck != nil && d.HealthCheck.Disable {
				return fmt.Errorf("service %q: depends on %s being healthy, but %s's healthcheck is disabled", name, dep, dep)
			}
		}
	}
	return nil
}
