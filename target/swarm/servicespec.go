package swarm

import (
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/swarm"

	"github.com/opdeploy/opdeploy/target/compose"
)

// labelImage is the image the compose file names, as stack deploy labels
// its services (the engine may pin the spec's image to a digest).
const labelImage = "com.docker.stack.image"

// serviceSpec is the swarm service that runs a compose service
// (docs/swarm.md, "Compose keys on a swarm", has the mapping). It never
// fails for a project validateProject accepted, as Load's projects are:
// validateProject builds every service's spec with convertService and
// rejects the project when one fails.
func serviceSpec(p *types.Project, s types.ServiceConfig) swarm.ServiceSpec {
	spec, _ := convertService(p, s)
	return spec
}

// specError is a service's value that a swarm cannot take.
func specError(s types.ServiceConfig, key, format string, args ...any) error {
	return fmt.Errorf("service %q: %s: %s", s.Name, key, fmt.Sprintf(format, args...))
}

// unsupported is a service's key (or sub-key) that a swarm cannot honour,
// in the same words as the key tables' errors.
func unsupported(s types.ServiceConfig, key, why string) error {
	return fmt.Errorf("service %q: %s is not supported by swarm_deployment: %s", s.Name, key, why)
}

// convertService builds the service spec, or says which value a swarm
// cannot take. Lists are in a stable order (sorted where the compose
// model is a map), so that specHash changes only when the file does.
func convertService(p *types.Project, s types.ServiceConfig) (swarm.ServiceSpec, error) {
	var spec swarm.ServiceSpec
	cs, err := containerSpec(p, s)
	if err != nil {
		return spec, err
	}
	labels := map[string]string{}
	if s.Deploy != nil {
		for k, v := range s.Deploy.Labels {
			labels[k] = v
		}
	}
	labels[labelNamespace] = p.Name
	labels[labelService] = s.Name
	labels[labelImage] = s.Image
	spec = swarm.ServiceSpec{
		Annotations:  swarm.Annotations{Name: scoped(p.Name, s.Name), Labels: labels},
		TaskTemplate: swarm.TaskSpec{ContainerSpec: cs},
	}
	if spec.TaskTemplate.Networks, err = networkAttachments(p, s); err != nil {
		return spec, err
	}
	if spec.Mode, err = serviceMode(s); err != nil {
		return spec, err
	}
	if spec.EndpointSpec, err = endpointSpec(s); err != nil {
		return spec, err
	}
	if spec.TaskTemplate.Resources, err = resources(s); err != nil {
		return spec, err
	}
	if spec.TaskTemplate.RestartPolicy, err = restartPolicy(s); err != nil {
		return spec, err
	}
	if isJob(s) {
		// A job's tasks run to completion: restarted always, they would
		// run forever. docker service create defaults jobs to on-failure.
		switch rp := spec.TaskTemplate.RestartPolicy; {
		case rp == nil:
			spec.TaskTemplate.RestartPolicy = &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionOnFailure}
		case rp.Condition == swarm.RestartPolicyConditionAny:
			return spec, specError(s, "deploy.mode", "%s tasks run to completion: the restart policy must be on-failure or none, not any (restart: always, or deploy.restart_policy.condition: any)", s.Deploy.Mode)
		}
	}
	if spec.TaskTemplate.Placement, err = placement(s); err != nil {
		return spec, err
	}
	if l := s.Logging; l != nil && (l.Driver != "" || len(l.Options) > 0) {
		if l.Driver == "" {
			// The engine would take the options for the node's default
			// driver, whichever that is; name it.
			return spec, specError(s, "logging", "options need a driver")
		}
		spec.TaskTemplate.LogDriver = &swarm.Driver{Name: l.Driver, Options: l.Options}
	}
	if d := s.Deploy; d != nil {
		if spec.UpdateConfig, err = updateConfig(s, "update_config", d.UpdateConfig); err != nil {
			return spec, err
		}
		if spec.RollbackConfig, err = updateConfig(s, "rollback_config", d.RollbackConfig); err != nil {
			return spec, err
		}
	}
	return spec, nil
}

// containerSpec is what each task's container runs. entrypoint becomes the
// spec's Command and command its Args, as the engine names them.
func containerSpec(p *types.Project, s types.ServiceConfig) (*swarm.ContainerSpec, error) {
	cs := &swarm.ContainerSpec{
		Image:          s.Image,
		Labels:         map[string]string{},
		Command:        s.Entrypoint,
		Args:           s.Command,
		Hostname:       s.Hostname,
		Env:            compose.Environment(s),
		Dir:            s.WorkingDir,
		User:           s.User,
		Groups:         s.GroupAdd,
		Init:           s.Init,
		StopSignal:     s.StopSignal,
		TTY:            s.Tty,
		OpenStdin:      s.StdinOpen,
		ReadOnly:       s.ReadOnly,
		Isolation:      container.Isolation(s.Isolation),
		Sysctls:        s.Sysctls,
		CapabilityAdd:  s.CapAdd,
		CapabilityDrop: s.CapDrop,
		OomScoreAdj:    s.OomScoreAdj,
		Hosts:          extraHosts(s.ExtraHosts),
		Ulimits:        ulimits(s.Ulimits),
	}
	// health.go: unless the service hands it to the swarm, opdeploy runs
	// the compose healthcheck itself, and the swarm gets none (NONE also
	// turns off the image's own, which would keep the task out of DNS just
	// the same).
	switch healthRunner(s) {
	case healthBySwarm:
		cs.Healthcheck = healthcheck(s.HealthCheck)
	case healthByOpdeploy:
		cs.Healthcheck = &container.HealthConfig{Test: []string{"NONE"}}
		cs.Labels[labelHealthRunner] = healthByOpdeploy
	default:
		cs.Healthcheck = healthcheck(s.HealthCheck)
	}
	for k, v := range s.Labels {
		cs.Labels[k] = v
	}
	cs.Labels[labelNamespace] = p.Name
	if s.StopGracePeriod != nil {
		d := time.Duration(*s.StopGracePeriod)
		cs.StopGracePeriod = &d
	}
	if len(s.DNS) > 0 || len(s.DNSSearch) > 0 || len(s.DNSOpts) > 0 {
		cs.DNSConfig = &swarm.DNSConfig{Search: s.DNSSearch, Options: s.DNSOpts}
		for _, d := range s.DNS {
			a, err := netip.ParseAddr(d)
			if err != nil {
				return nil, specError(s, "dns", "%q is not an IP address", d)
			}
			cs.DNSConfig.Nameservers = append(cs.DNSConfig.Nameservers, a)
		}
	}
	var err error
	if cs.Mounts, err = mounts(p, s); err != nil {
		return nil, err
	}
	return cs, nil
}

// healthcheck is the compose healthcheck as the engine takes it; disable
// (or test NONE) turns off the image's own.
func healthcheck(hc *types.HealthCheckConfig) *container.HealthConfig {
	if hc == nil {
		return nil
	}
	if hc.Disable || (len(hc.Test) > 0 && hc.Test[0] == "NONE") {
		return &container.HealthConfig{Test: []string{"NONE"}}
	}
	h := &container.HealthConfig{
		Test:          hc.Test,
		Interval:      compose.DurationOf(hc.Interval),
		Timeout:       compose.DurationOf(hc.Timeout),
		StartPeriod:   compose.DurationOf(hc.StartPeriod),
		StartInterval: compose.DurationOf(hc.StartInterval), // API 1.44: checkEngineSupport
	}
	if hc.Retries != nil {
		h.Retries = int(*hc.Retries)
	}
	return h
}

// extraHosts renders extra_hosts in the swarm's /etc/hosts form, "IP
// host", sorted by host (compose-go keeps them in a map).
func extraHosts(h types.HostsList) []string {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []string
	for _, name := range names {
		for _, ip := range h[name] {
			out = append(out, ip+" "+name)
		}
	}
	return out
}

// ulimits are sorted by name; a single value is both soft and hard.
func ulimits(u map[string]*types.UlimitsConfig) []*container.Ulimit {
	var out []*container.Ulimit
	for name, l := range u {
		soft, hard := int64(l.Soft), int64(l.Hard)
		if l.Single != 0 {
			soft, hard = int64(l.Single), int64(l.Single)
		}
		out = append(out, &container.Ulimit{Name: name, Soft: soft, Hard: hard})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// serviceMode maps deploy.mode and the replica count (scale or
// deploy.replicas; compose-go keeps them equal).
func serviceMode(s types.ServiceConfig) (swarm.ServiceMode, error) {
	replicas := uint64(s.GetScale())
	mode := ""
	replicasSet := s.Scale != nil
	if s.Deploy != nil {
		mode = s.Deploy.Mode
		replicasSet = replicasSet || s.Deploy.Replicas != nil
	}
	switch mode {
	case "", "replicated":
		return swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &replicas}}, nil
	case "replicated-job":
		// Run the job `replicas` times, all at once, as stack deploy does.
		return swarm.ServiceMode{ReplicatedJob: &swarm.ReplicatedJob{MaxConcurrent: &replicas, TotalCompletions: &replicas}}, nil
	case "global", "global-job":
		if replicasSet {
			return swarm.ServiceMode{}, specError(s, "deploy.mode", "%s runs one task on each node: replicas (or scale) cannot be set", mode)
		}
		if mode == "global" {
			return swarm.ServiceMode{Global: &swarm.GlobalService{}}, nil
		}
		return swarm.ServiceMode{GlobalJob: &swarm.GlobalJob{}}, nil
	}
	return swarm.ServiceMode{}, specError(s, "deploy.mode", "%q: want replicated, global, replicated-job or global-job", mode)
}

// isJob says whether a service runs to completion on the swarm.
func isJob(s types.ServiceConfig) bool {
	return s.Deploy != nil && strings.HasSuffix(s.Deploy.Mode, "-job")
}

// endpointSpec maps deploy.endpoint_mode and ports. A port without a
// published port gets one from the swarm (30000 and up) in ingress mode.
func endpointSpec(s types.ServiceConfig) (*swarm.EndpointSpec, error) {
	ep := &swarm.EndpointSpec{Mode: swarm.ResolutionModeVIP}
	if s.Deploy != nil {
		switch s.Deploy.EndpointMode {
		case "", "vip":
		case "dnsrr":
			ep.Mode = swarm.ResolutionModeDNSRR
		default:
			return nil, specError(s, "deploy.endpoint_mode", "%q: want vip or dnsrr", s.Deploy.EndpointMode)
		}
	}
	for _, port := range s.Ports {
		pc, err := portConfig(s, port)
		if err != nil {
			return nil, err
		}
		if ep.Mode == swarm.ResolutionModeDNSRR && pc.PublishMode == swarm.PortConfigPublishModeIngress {
			// The swarm refuses it: the routing mesh balances over a VIP.
			return nil, specError(s, "ports", "%d is published in ingress mode, which needs endpoint_mode vip: publish it with mode host", pc.TargetPort)
		}
		ep.Ports = append(ep.Ports, pc)
	}
	sort.SliceStable(ep.Ports, func(i, j int) bool {
		a, b := ep.Ports[i], ep.Ports[j]
		if a.TargetPort != b.TargetPort {
			return a.TargetPort < b.TargetPort
		}
		if a.PublishedPort != b.PublishedPort {
			return a.PublishedPort < b.PublishedPort
		}
		return a.Protocol < b.Protocol
	})
	return ep, nil
}

// portConfig maps one port. compose-go has expanded "8000-8001:80-81"
// into one port each already; a host range for one container port would
// need the swarm to pick a port in it, which it cannot.
func portConfig(s types.ServiceConfig, port types.ServicePortConfig) (swarm.PortConfig, error) {
	pc := swarm.PortConfig{Name: port.Name, TargetPort: port.Target}
	switch port.Protocol {
	case "", "tcp":
		pc.Protocol = network.TCP
	case "udp":
		pc.Protocol = network.UDP
	case "sctp":
		pc.Protocol = network.SCTP
	default:
		return pc, specError(s, "ports", "protocol %q: want tcp, udp or sctp", port.Protocol)
	}
	switch port.Mode {
	case "", "ingress":
		pc.PublishMode = swarm.PortConfigPublishModeIngress
	case "host":
		pc.PublishMode = swarm.PortConfigPublishModeHost
	default:
		return pc, specError(s, "ports", "mode %q: want ingress or host", port.Mode)
	}
	switch port.HostIP {
	case "", "0.0.0.0", "::":
	default:
		return pc, unsupported(s, "ports.host_ip", fmt.Sprintf("a swarm publishes %d on every address of a node, not on %s", port.Target, port.HostIP))
	}
	if port.Published != "" {
		n, err := strconv.ParseUint(port.Published, 10, 16)
		if err != nil {
			return pc, specError(s, "ports", "published %q for %d: a swarm publishes one port, not a range", port.Published, port.Target)
		}
		pc.PublishedPort = uint32(n)
	}
	return pc, nil
}

// resources maps deploy.resources, and the legacy keys compose maps to
// them (cpus, mem_limit, mem_reservation, pids_limit) when deploy leaves
// them unset. Both set to different values is an error: which one wins
// differs between tools.
func resources(s types.ServiceConfig) (*swarm.ResourceRequirements, error) {
	var lim, res types.Resource
	if s.Deploy != nil {
		if l := s.Deploy.Resources.Limits; l != nil {
			if len(l.Devices) > 0 || len(l.GenericResources) > 0 {
				return nil, unsupported(s, "deploy.resources.limits", "a swarm limits cpus, memory and pids only")
			}
			lim = *l
		}
		if r := s.Deploy.Resources.Reservations; r != nil {
			if len(r.Devices) > 0 {
				return nil, unsupported(s, "deploy.resources.reservations.devices", "a swarm reserves devices only as generic_resources")
			}
			if r.Pids != 0 {
				return nil, unsupported(s, "deploy.resources.reservations.pids", "a swarm reserves cpus, memory and generic resources only")
			}
			res = *r
		}
	}
	var err error
	merge := func(legacy, deployKey string, deployed *int64, value int64) {
		switch {
		case err != nil || value == 0:
		case *deployed == 0:
			*deployed = value
		case *deployed != value:
			err = specError(s, legacy, "%d conflicts with %s %d: set one", value, deployKey, *deployed)
		}
	}
	limits := swarm.Limit{NanoCPUs: nanoCPUs(float32(lim.NanoCPUs)), MemoryBytes: int64(lim.MemoryBytes), Pids: lim.Pids}
	merge("cpus", "deploy.resources.limits.cpus (in nano CPUs)", &limits.NanoCPUs, nanoCPUs(s.CPUS))
	merge("mem_limit", "deploy.resources.limits.memory", &limits.MemoryBytes, int64(s.MemLimit))
	merge("pids_limit", "deploy.resources.limits.pids", &limits.Pids, s.PidsLimit)
	reservations := swarm.Resources{NanoCPUs: nanoCPUs(float32(res.NanoCPUs)), MemoryBytes: int64(res.MemoryBytes)}
	merge("mem_reservation", "deploy.resources.reservations.memory", &reservations.MemoryBytes, int64(s.MemReservation))
	if err != nil {
		return nil, err
	}
	for _, g := range res.GenericResources {
		if d := g.DiscreteResourceSpec; d != nil {
			reservations.GenericResources = append(reservations.GenericResources, swarm.GenericResource{
				DiscreteResourceSpec: &swarm.DiscreteGenericResource{Kind: d.Kind, Value: d.Value},
			})
		}
	}
	var rr swarm.ResourceRequirements
	if limits != (swarm.Limit{}) {
		rr.Limits = &limits
	}
	if reservations.NanoCPUs != 0 || reservations.MemoryBytes != 0 || len(reservations.GenericResources) > 0 {
		rr.Reservations = &reservations
	}
	if rr.Limits == nil && rr.Reservations == nil {
		return nil, nil
	}
	return &rr, nil
}

// nanoCPUs converts compose's float32 CPU count through its shortest
// decimal form, so that 0.1 is 100000000 and not 100000001.
func nanoCPUs(cpus float32) int64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(float64(cpus), 'f', -1, 32), 64)
	return int64(math.Round(v * 1e9))
}

// restartPolicy maps deploy.restart_policy, or else the service's restart
// key (which stack deploy also falls back to). Unlike stack deploy,
// `restart: "no"` becomes condition none: left unset, the swarm would
// restart the task always. Neither set leaves the swarm's default, any.
func restartPolicy(s types.ServiceConfig) (*swarm.RestartPolicy, error) {
	if s.Deploy != nil && s.Deploy.RestartPolicy != nil {
		rp := s.Deploy.RestartPolicy
		out := &swarm.RestartPolicy{MaxAttempts: rp.MaxAttempts}
		switch rp.Condition {
		case "", "any":
			out.Condition = swarm.RestartPolicyConditionAny
		case "none", "on-failure":
			out.Condition = swarm.RestartPolicyCondition(rp.Condition)
		default:
			return nil, specError(s, "deploy.restart_policy.condition", "%q: want none, on-failure or any", rp.Condition)
		}
		if rp.Delay != nil {
			d := time.Duration(*rp.Delay)
			out.Delay = &d
		}
		if rp.Window != nil {
			w := time.Duration(*rp.Window)
			out.Window = &w
		}
		return out, nil
	}
	if s.Restart == "" {
		return nil, nil
	}
	name, count, hasCount := strings.Cut(s.Restart, ":")
	out := &swarm.RestartPolicy{}
	switch name {
	case "no":
		out.Condition = swarm.RestartPolicyConditionNone
	case "always", "unless-stopped":
		out.Condition = swarm.RestartPolicyConditionAny
	case "on-failure":
		out.Condition = swarm.RestartPolicyConditionOnFailure
	default:
		return nil, specError(s, "restart", "%q: want no, always, on-failure[:N] or unless-stopped", s.Restart)
	}
	if hasCount {
		n, err := strconv.ParseUint(count, 10, 64)
		if err != nil || name != "on-failure" {
			return nil, specError(s, "restart", "%q: only on-failure takes a count", s.Restart)
		}
		if n > 0 {
			out.MaxAttempts = &n
		}
	}
	return out, nil
}

// placement maps deploy.placement, and platform as the platforms a task
// may be scheduled on.
func placement(s types.ServiceConfig) (*swarm.Placement, error) {
	var pl swarm.Placement
	if s.Deploy != nil {
		pl.Constraints = s.Deploy.Placement.Constraints
		pl.MaxReplicas = s.Deploy.Placement.MaxReplicas
		for _, pref := range s.Deploy.Placement.Preferences {
			pl.Preferences = append(pl.Preferences, swarm.PlacementPreference{Spread: &swarm.SpreadOver{SpreadDescriptor: pref.Spread}})
		}
	}
	if s.Platform != "" {
		parts := strings.Split(s.Platform, "/")
		if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
			return nil, specError(s, "platform", "%q: want os/arch[/variant], such as linux/amd64", s.Platform)
		}
		// The swarm schedules on OS and architecture; a variant is the
		// image's business.
		pl.Platforms = []swarm.Platform{{OS: parts[0], Architecture: parts[1]}}
	}
	if len(pl.Constraints) == 0 && len(pl.Preferences) == 0 && pl.MaxReplicas == 0 && len(pl.Platforms) == 0 {
		return nil, nil
	}
	return &pl, nil
}

// updateConfig maps update_config or rollback_config. Parallelism
// defaults to 1, as stack deploy's: the engine's default, 0, would update
// every task at once.
func updateConfig(s types.ServiceConfig, key string, u *types.UpdateConfig) (*swarm.UpdateConfig, error) {
	if u == nil {
		return nil, nil
	}
	out := &swarm.UpdateConfig{
		Parallelism:     1,
		Delay:           time.Duration(u.Delay),
		Monitor:         time.Duration(u.Monitor),
		MaxFailureRatio: u.MaxFailureRatio,
	}
	if u.Parallelism != nil {
		out.Parallelism = *u.Parallelism
	}
	switch u.FailureAction {
	case "", "pause", "continue", "rollback":
		out.FailureAction = swarm.FailureAction(u.FailureAction)
	default:
		return nil, specError(s, "deploy."+key+".failure_action", "%q: want pause, continue or rollback", u.FailureAction)
	}
	switch u.Order {
	case "", "stop-first", "start-first":
		out.Order = swarm.UpdateOrder(u.Order)
	default:
		return nil, specError(s, "deploy."+key+".order", "%q: want stop-first or start-first", u.Order)
	}
	if u.MaxFailureRatio < 0 || u.MaxFailureRatio > 1 {
		return nil, specError(s, "deploy."+key+".max_failure_ratio", "%v: want a fraction between 0 and 1", u.MaxFailureRatio)
	}
	return out, nil
}
