package local

import (
	"context"
	"fmt"
	"sort"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/opdeploy/opdeploy/target"
)

// Status lists the project's containers by label. It makes one API call.
func (d *Deployment) Status(ctx context.Context, opts target.StatusOptions) (*target.DeploymentStatus, error) {
	cli, err := d.engine.Client(ctx)
	if err != nil {
		return nil, err
	}
	list, err := listProjectContainers(ctx, cli, d.project.Name)
	if err != nil {
		return nil, err
	}
	wanted := map[string]bool{}
	for _, s := range opts.Services {
		if _, ok := d.project.Services[s]; !ok {
			return nil, fmt.Errorf("no service %q in project %q", s, d.project.Name)
		}
		wanted[s] = true
	}
	st := &target.DeploymentStatus{Project: d.project.Name}
	var snap []containerState
	for _, c := range list {
		svc := c.Labels[labelService]
		if len(wanted) > 0 && !wanted[svc] {
			continue
		}
		cs := stateFromSummary(c)
		snap = append(snap, *cs)
		s := target.ServiceStatus{
			Service:   svc,
			Container: cs.Name,
			Number:    cs.Number,
			State:     cs.State,
			Health:    cs.Health,
			ExitCode:  cs.ExitCode,
			Image:     c.Image,
		}
		for _, p := range c.Ports {
			if p.PublicPort == 0 {
				continue
			}
			hostIP := ""
			if p.IP.IsValid() {
				hostIP = p.IP.String()
			}
			s.Ports = append(s.Ports, target.PortBinding{HostIP: hostIP, HostPort: p.PublicPort, ContainerPort: p.PrivatePort, Protocol: p.Type})
		}
		sort.Slice(s.Ports, func(i, j int) bool {
			a, b := s.Ports[i], s.Ports[j]
			if a.ContainerPort != b.ContainerPort {
				return a.ContainerPort < b.ContainerPort
			}
			return a.HostIP < b.HostIP
		})
		st.Services = append(st.Services, s)
	}
	sort.Slice(st.Services, func(i, j int) bool {
		a, b := st.Services[i], st.Services[j]
		if a.Service != b.Service {
			return target.NaturalLess(a.Service, b.Service)
		}
		return a.Number < b.Number
	})

	services := d.project.Services
	if len(wanted) > 0 {
		services = types.Services{}
		for name := range wanted {
			services[name] = d.project.Services[name]
		}
	}
	st.AllHealthy = len(services) > 0
	for name, s := range services {
		var ids []string
		for _, c := range snap {
			if c.Service == name && c.Number >= 1 && c.Number <= s.GetScale() {
				ids = append(ids, c.ID)
			}
		}
		if ok, _ := readiness(s, ids, nil, snap); !ok {
			st.AllHealthy = false
		}
	}
	return st, nil
}
