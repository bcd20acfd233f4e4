package swarm

import (
	"fmt"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/compose"
)

// validateProject checks, without a daemon, that a swarm can run every
// service as declared: keys a swarm cannot honour and values it would
// refuse are errors naming the service (or network) and the key, found
// when the subject is evaluated rather than half-way through up. It
// returns, by service, warnings about keys ignored.
func validateProject(p *types.Project) (map[string][]string, error) {
	if len(p.Jobs) > 0 {
		return nil, fmt.Errorf("jobs are not supported by swarm_deployment yet (%s); use a service with deploy.mode replicated-job", strings.Join(sortedKeys(p.Jobs), ", "))
	}
	names := p.ServiceNames()
	target.SortNatural(names)
	warnings := map[string][]string{}
	for _, name := range names {
		s := p.Services[name]
		w, err := validateService(p, s)
		if len(w) > 0 {
			warnings[name] = w
		}
		if err != nil {
			return warnings, err
		}
	}
	for _, key := range sortedKeys(p.Networks) {
		if err := validateNetwork(key, p.Networks[key]); err != nil {
			return warnings, err
		}
	}
	for _, key := range sortedKeys(p.Volumes) {
		var none []string
		if err := applyRules(fmt.Sprintf("volume %q", key), "", compose.SetKeys(p.Volumes[key], types.VolumeConfig{}), volumeKeys, &none); err != nil {
			return warnings, err
		}
	}
	if err := checkIngressPorts(p, names); err != nil {
		return warnings, err
	}
	return warnings, nil
}

// maxServiceName is the longest name a swarm takes for a service: it is a
// DNS label.
const maxServiceName = 63

// validateService applies the key tables and builds the service's spec,
// which checks every value it carries.
func validateService(p *types.Project, s types.ServiceConfig) ([]string, error) {
	if err := checkHealthRunner(s); err != nil {
		return nil, err
	}
	warnings, err := checkSupported(s)
	if err != nil {
		return warnings, err
	}
	if name := scoped(p.Name, s.Name); len(name) > maxServiceName {
		return warnings, fmt.Errorf("service %q: the swarm service name %q is longer than %d characters: shorten the project or service name", s.Name, name, maxServiceName)
	}
	if _, err := convertService(p, s); err != nil {
		return warnings, err
	}
	if s.Restart != "" && s.Deploy != nil && s.Deploy.RestartPolicy != nil {
		warnings = append(warnings, fmt.Sprintf("service %q: restart is ignored by swarm_deployment: deploy.restart_policy wins", s.Name))
	}
	for _, key := range sortedKeys(s.Networks) {
		if cfg := s.Networks[key]; cfg != nil && (cfg.Priority != 0 || cfg.GatewayPriority != 0) {
			warnings = append(warnings, fmt.Sprintf("service %q: networks.%s.priority and gw_priority are ignored by swarm_deployment: a swarm attaches a task's networks in its own order", s.Name, key))
		}
	}
	for _, dep := range sortedKeys(s.DependsOn) {
		d, ok := p.Services[dep]
		if !ok {
			continue // required: false, and not in the project
		}
		switch s.DependsOn[dep].Condition {
		case types.ServiceConditionHealthy:
			if d.HealthCheck != nil && (d.HealthCheck.Disable || len(d.HealthCheck.Test) > 0 && d.HealthCheck.Test[0] == "NONE") {
				return warnings, fmt.Errorf("service %q: depends on %s being healthy, but %s's healthcheck is disabled", s.Name, dep, dep)
			}
		case types.ServiceConditionCompletedSuccessfully:
			// A replicated service's task that exits is replaced, by
			// default: it never stays completed.
			if !isJob(d) && restartsOnSuccess(d) {
				return warnings, fmt.Errorf("service %q: depends on %s completing successfully, but the swarm restarts %s's tasks when they exit: give %s deploy.mode replicated-job (or restart_policy condition on-failure or none)", s.Name, dep, dep, dep)
			}
		}
	}
	return warnings, nil
}

// restartsOnSuccess says whether the swarm restarts a task of s that
// exits 0.
func restartsOnSuccess(s types.ServiceConfig) bool {
	rp, err := restartPolicy(s)
	return err == nil && (rp == nil || rp.Condition == "any")
}

// hostDrivers are network drivers whose networks are local to one engine:
// a swarm service cannot span nodes on them.
var hostDrivers = map[string]bool{"bridge": true, "host": true, "none": true}

// validateNetwork applies the network key table and checks the values a
// swarm would refuse when up creates the network.
func validateNetwork(key string, n types.NetworkConfig) error {
	who := fmt.Sprintf("network %q", key)
	var none []string
	if err := applyRules(who, "", compose.SetKeys(n, types.NetworkConfig{}), networkKeys, &none); err != nil {
		return err
	}
	if n.External {
		return nil // not created: its definition is the engine's
	}
	if hostDrivers[n.Driver] {
		return fmt.Errorf("%s: driver %s is not supported by swarm_deployment: a swarm's services need a swarm-scoped network (overlay, the default)", who, n.Driver)
	}
	if n.EnableIPv4 != nil && !*n.EnableIPv4 {
		return fmt.Errorf("%s: enable_ipv4: false is not supported by swarm_deployment: it needs engine API 1.47", who)
	}
	_, err := ipam(key, n.Ipam)
	return err
}

// checkIngressPorts rejects two services (or two ports of one) that
// publish the same port through the routing mesh: ingress ports are
// swarm-wide, and the swarm would refuse the second service half-way
// through up. Host-mode ports are per node and left to the scheduler.
func checkIngressPorts(p *types.Project, names []string) error {
	owner := map[string]string{}
	for _, name := range names {
		ep, err := endpointSpec(p.Services[name])
		if err != nil {
			return err
		}
		for _, port := range ep.Ports {
			if port.PublishMode != "ingress" || port.PublishedPort == 0 {
				continue
			}
			k := fmt.Sprintf("%d/%s", port.PublishedPort, port.Protocol)
			if other, taken := owner[k]; taken {
				if other == name {
					return fmt.Errorf("service %q publishes port %s twice", name, k)
				}
				return fmt.Errorf("services %q and %q both publish port %s on the swarm's routing mesh", other, name, k)
			}
			owner[k] = name
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
