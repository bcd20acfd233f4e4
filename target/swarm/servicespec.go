package swarm

import (
	"sort"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/api/types/swarm"

	"github.com/opdeploy/opdeploy/target/compose"
)

// serviceSpec is the swarm service that runs a compose service, as
// `docker stack deploy` would create it (docs/swarm.md has the mapping).
func serviceSpec(p *types.Project, s types.ServiceConfig) swarm.ServiceSpec {
	labels := map[string]string{labelNamespace: p.Name, labelService: s.Name}
	cs := &swarm.ContainerSpec{
		Image:      s.Image,
		Labels:     map[string]string{labelNamespace: p.Name},
		Command:    s.Entrypoint,
		Args:       s.Command,
		Hostname:   s.Hostname,
		Env:        environment(s),
		Dir:        s.WorkingDir,
		User:       s.User,
		Init:       s.Init,
		StopSignal: s.StopSignal,
		TTY:        s.Tty,
		OpenStdin:  s.StdinOpen,
		ReadOnly:   s.ReadOnly,
	}
	for k, v := range s.Labels {
		cs.Labels[k] = v
	}
	if s.StopGracePeriod != nil {
		d := time.Duration(*s.StopGracePeriod)
		cs.StopGracePeriod = &d
	}
	if hc := s.HealthCheck; hc != nil {
		cs.Healthcheck = &container.HealthConfig{
			Test:        hc.Test,
			Interval:    compose.DurationOf(hc.Interval),
			Timeout:     compose.DurationOf(hc.Timeout),
			StartPeriod: compose.DurationOf(hc.StartPeriod),
		}
		if hc.Retries != nil {
			cs.Healthcheck.Retries = int(*hc.Retries)
		}
		if hc.Disable {
			cs.Healthcheck = &container.HealthConfig{Test: []string{"NONE"}}
		}
	}
	for _, v := range s.Volumes {
		m := mount.Mount{Type: mount.Type(v.Type), Source: v.Source, Target: v.Target, ReadOnly: v.ReadOnly}
		if v.Type == types.VolumeTypeVolume && v.Source != "" {
			m.Source = scoped(p.Name, v.Source)
			if vol, ok := p.Volumes[v.Source]; ok && vol.Name != "" {
				m.Source = vol.Name
			}
			m.VolumeOptions = &mount.VolumeOptions{Labels: map[string]string{labelNamespace: p.Name}}
		}
		cs.Mounts = append(cs.Mounts, m)
	}

	spec := swarm.ServiceSpec{
		Annotations:  swarm.Annotations{Name: scoped(p.Name, s.Name), Labels: labels},
		TaskTemplate: swarm.TaskSpec{ContainerSpec: cs},
		EndpointSpec: &swarm.EndpointSpec{Mode: swarm.ResolutionModeVIP},
	}
	replicas := uint64(s.GetScale())
	spec.Mode = swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &replicas}}
	if d := s.Deploy; d != nil {
		for k, v := range d.Labels {
			labels[k] = v
		}
		if d.Mode == "global" {
			spec.Mode = swarm.ServiceMode{Global: &swarm.GlobalService{}}
		}
		if d.EndpointMode == "dnsrr" {
			spec.EndpointSpec.Mode = swarm.ResolutionModeDNSRR
		}
	}
	for _, port := range s.Ports {
		mode := swarm.PortConfigPublishModeIngress
		if port.Mode == "host" {
			mode = swarm.PortConfigPublishModeHost
		}
		pc := swarm.PortConfig{Protocol: portProtocol(port.Protocol), TargetPort: port.Target, PublishMode: mode}
		if port.Published != "" {
			var n uint32
			for _, c := range port.Published {
				n = n*10 + uint32(c-'0')
			}
			pc.PublishedPort = n
		}
		spec.EndpointSpec.Ports = append(spec.EndpointSpec.Ports, pc)
	}
	nets := make([]string, 0, len(s.Networks))
	for name := range s.Networks {
		nets = append(nets, name)
	}
	sort.Strings(nets)
	for _, name := range nets {
		att := swarm.NetworkAttachmentConfig{Target: networkName(p, name), Aliases: []string{s.Name}}
		if cfg := s.Networks[name]; cfg != nil {
			att.Aliases = append(att.Aliases, cfg.Aliases...)
		}
		spec.TaskTemplate.Networks = append(spec.TaskTemplate.Networks, att)
	}
	return spec
}

// networkName is the engine name of a project network.
func networkName(p *types.Project, key string) string {
	if n, ok := p.Networks[key]; ok && n.Name != "" {
		return n.Name
	}
	return scoped(p.Name, key)
}

func portProtocol(p string) network.IPProtocol {
	switch p {
	case "udp":
		return network.UDP
	case "sctp":
		return network.SCTP
	}
	return network.TCP
}

// environment renders the service's resolved environment, sorted; a
// variable with no value is left out, as compose does.
func environment(s types.ServiceConfig) []string {
	var env []string
	for k, v := range s.Environment {
		if v != nil {
			env = append(env, k+"="+*v)
		}
	}
	sort.Strings(env)
	return env
}
