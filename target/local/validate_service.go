package local

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/distribution/reference"
)

// validateService checks the values of a service's keys that the key
// tables (support.go) let through: what the engine would reject half-way
// through `up`, and settings opdeploy applies only in part.
func validateService(p *types.Project, s types.ServiceConfig) (warnings []string, err error) {
	fail := func(format string, args ...any) ([]string, error) {
		return warnings, fmt.Errorf("service %q: "+format, append([]any{s.Name}, args...)...)
	}
	if s.Image != "" {
		if _, err := reference.ParseNormalizedNamed(s.Image); err != nil {
			return fail("image %q is not a valid image reference: %v", s.Image, err)
		}
	}
	if s.GetScale() > 1 && s.ContainerName != "" {
		return fail("%d replicas cannot share container_name %q", s.GetScale(), s.ContainerName)
	}
	for _, port := range s.Ports {
		if s.GetScale() > 1 && port.Published != "" && !strings.Contains(port.Published, "-") {
			return fail("%d replicas cannot all publish host port %s (use a range, or leave the host port out)", s.GetScale(), port.Published)
		}
	}
	for _, v := range s.Volumes {
		switch v.Type {
		case types.VolumeTypeBind, types.VolumeTypeVolume, types.VolumeTypeTmpfs:
		default:
			return fail("volume type %q (%s) is not supported by opdeploy yet", v.Type, v.Target)
		}
	}
	switch s.PullPolicy {
	case "", types.PullPolicyMissing, types.PullPolicyIfNotPresent, types.PullPolicyAlways, types.PullPolicyBuild, types.PullPolicyNever:
	default:
		return fail("pull_policy %q is not supported by opdeploy yet (missing, always, build or never)", s.PullPolicy)
	}
	if err := validateBuild(s); err != nil {
		return warnings, err
	}
	if w, err := validateDeploy(s); err != nil {
		return append(warnings, w...), err
	} else {
		warnings = append(warnings, w...)
	}
	if w, err := validateNamespaces(p, s); err != nil {
		return append(warnings, w...), err
	} else {
		warnings = append(warnings, w...)
	}
	for _, d := range s.DNS {
		if _, err := netip.ParseAddr(d); err != nil {
			return fail("dns %q is not an IP address", d)
		}
	}
	for _, d := range s.Devices {
		if d.Source == d.Target && strings.Contains(d.Source, "=") {
			return fail("device %s: CDI devices are not supported by opdeploy yet", d.Source)
		}
	}
	if s.Platform != "" {
		if _, err := parsePlatform(s.Platform); err != nil {
			return fail("platform: %v", err)
		}
	}
	return warnings, nil
}

// validateDeploy checks deploy's honoured keys: the mode, the restart
// policy as the engine can apply it, and resources.
func validateDeploy(s types.ServiceConfig) (warnings []string, err error) {
	d := s.Deploy
	if d == nil {
		return nil, nil
	}
	fail := func(format string, args ...any) ([]string, error) {
		return warnings, fmt.Errorf("service %q: deploy."+format, append([]any{s.Name}, args...)...)
	}
	switch d.Mode {
	case "", "replicated", "global": // global: one replica per engine, and there is one
	default:
		return fail("mode %q is not supported by opdeploy yet (replicated or global)", d.Mode)
	}
	if rp := d.RestartPolicy; rp != nil {
		switch rp.Condition {
		case "", "none", "no", "on-failure", "any", "always", "unless-stopped":
		default:
			return fail("restart_policy.condition %q: want none, on-failure or any", rp.Condition)
		}
		if rp.MaxAttempts != nil && *rp.MaxAttempts > 0 && restartMode(rp.Condition) != "on-failure" {
			return fail("restart_policy.max_attempts needs condition on-failure: the engine counts attempts only then")
		}
		if rp.Delay != nil {
			warnings = append(warnings, fmt.Sprintf("service %q: deploy.restart_policy.delay is ignored: the engine's restart policy has no delay; it backs off on its own (docker compose ignores it too)", s.Name))
		}
		if rp.Window != nil {
			warnings = append(warnings, fmt.Sprintf("service %q: deploy.restart_policy.window is ignored: the engine's restart policy has no window (docker compose ignores it too)", s.Name))
		}
	}
	if r := d.Resources.Reservations; r != nil {
		switch {
		case len(r.Devices) > 0:
			return fail("resources.reservations.devices (GPUs) is not supported by opdeploy yet")
		case len(r.GenericResources) > 0:
			return fail("resources.reservations.generic_resources is not supported by opdeploy yet")
		case r.NanoCPUs != 0 || r.Pids != 0:
			warnings = append(warnings, fmt.Sprintf("service %q: deploy.resources.reservations other than memory are ignored: the engine reserves only memory (docker compose ignores them too)", s.Name))
		}
	}
	if l := d.Resources.Limits; l != nil && (len(l.Devices) > 0 || len(l.GenericResources) > 0) {
		return fail("resources.limits takes cpus, memory and pids only")
	}
	return warnings, nil
}

// validateNamespaces checks the namespace settings: what the engine refuses
// for a container that joins another's network namespace (or accepts and
// ignores: a warning), and IPC namespaces that can be joined.
func validateNamespaces(p *types.Project, s types.ServiceConfig) (warnings []string, err error) {
	fail := func(format string, args ...any) ([]string, error) {
		return warnings, fmt.Errorf("service %q: "+format, append([]any{s.Name}, args...)...)
	}
	if joinsNetwork(s.NetworkMode) {
		// The engine's own refusals ("conflicting options: ... and the
		// container type network mode"), found before anything changes.
		for _, c := range []struct {
			set bool
			key string
		}{
			{len(s.Ports) > 0, "ports"}, {len(s.Expose) > 0, "expose"}, {s.Hostname != "", "hostname"},
			{len(s.DNS) > 0, "dns"}, {len(s.ExtraHosts) > 0, "extra_hosts"},
			{len(s.Links) > 0, "links"}, {len(s.ExternalLinks) > 0, "external_links"},
		} {
			if c.set {
				return fail("%s cannot be set with network_mode %q: the container uses the network of another", c.key, s.NetworkMode)
			}
		}
		// The engine takes these, and the container uses the resolver of
		// the one whose network it joins all the same.
		for _, c := range []struct {
			set bool
			key string
		}{{len(s.DNSSearch) > 0, "dns_search"}, {len(s.DNSOpts) > 0, "dns_opt"}} {
			if c.set {
				warnings = append(warnings, fmt.Sprintf("service %q: %s has no effect with network_mode %q: the container uses the resolver of the one whose network it joins", s.Name, c.key, s.NetworkMode))
			}
		}
	}
	if owner, ok := strings.CutPrefix(s.Ipc, types.ServicePrefix); ok {
		if o, found := p.Services[owner]; found && o.Ipc != "shareable" {
			return fail("ipc %q: service %q must declare ipc: shareable for others to join its IPC namespace (the engine's default is private)", s.Ipc, owner)
		}
	}
	switch s.Uts {
	case "", "host":
	default:
		return fail("uts %q: want host", s.Uts)
	}
	return warnings, nil
}

// joinsNetwork says whether a network_mode makes the container use another
// container's network namespace.
func joinsNetwork(mode string) bool {
	return strings.HasPrefix(mode, types.ServicePrefix) || strings.HasPrefix(mode, types.ContainerPrefix)
}

// restartMode maps a compose restart condition to the engine's restart
// policy, as docker compose maps deploy.restart_policy.condition.
func restartMode(condition string) string {
	switch condition {
	case "any", "always":
		return "always"
	case "none", "no", "":
		return "no"
	}
	return condition // on-failure, unless-stopped
}
