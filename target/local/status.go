package local

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"golang.org/x/sync/errgroup"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// Status reports every replica the project declares, with the verdict up
// and wait_healthy apply (verdict.go) and a reason for each one that is not
// ready: replicas with no container are listed as missing, not left out.
// Containers that play no part (orphans, replicas beyond the declared
// count, duplicates) are listed too, with what they are. It makes one list
// call, plus an inspect per unhealthy container for its healthcheck output.
func (d *Deployment) Status(ctx context.Context, opts target.StatusOptions) (*target.DeploymentStatus, error) {
	services, err := d.namedServices(opts.Services)
	if err != nil {
		return nil, err
	}
	cli, err := d.engine.Client(ctx)
	if err != nil {
		return nil, err
	}
	list, err := listProjectContainers(ctx, cli, d.project.Name)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	wanted := map[string]bool{}
	for _, s := range services {
		wanted[s.Name] = true
	}
	st := &target.DeploymentStatus{Project: d.project.Name, AllHealthy: len(services) > 0}
	claimed := map[string]bool{} // container IDs that stand for a declared replica
	for _, s := range services {
		r := d.role(s)
		for n := 1; n <= r.Replicas; n++ {
			c, ok := replicaContainer(d.project.Name, s, n, list)
			if !ok {
				st.Services = append(st.Services, target.ServiceStatus{
					Service: s.Name, Number: n, State: target.StateMissing, Health: target.HealthNone, Counted: true,
					Reason: "no container: removed, or never created (up creates it)",
				})
				st.AllHealthy = false
				continue
			}
			claimed[c.ID] = true
			row := statusRow(c, now)
			cs := stateFromSummary(c, now)
			v := judge(*cs, r, nil, now)
			if missing := missingNetworks(d.networksOf(s), cs.Networks); v.Ready && len(missing) > 0 {
				// Running and healthy, but cut off: its healthcheck runs
				// inside it and cannot tell. up connects it again.
				v = verdict{Reason: "disconnected from " + strings.Join(missing, ", ") + " (up connects it again)"}
			}
			row.Ready, row.Reason, row.Counted = v.Ready, v.Reason, true
			st.AllHealthy = st.AllHealthy && v.Ready
			st.Services = append(st.Services, row)
		}
	}
	for _, c := range list {
		svc := c.Labels[labelService]
		if claimed[c.ID] || (len(opts.Services) > 0 && !wanted[svc]) {
			continue
		}
		row := statusRow(c, now)
		s, known := d.project.Services[svc]
		switch {
		case !known:
			row.Reason = "orphan: its service is not in the project (up --remove-orphans removes it)"
		case row.Number < 1 || row.Number > s.GetScale():
			row.Reason = fmt.Sprintf("beyond the %d replicas the service declares (up removes it)", s.GetScale())
		default:
			row.Reason = fmt.Sprintf("duplicate of replica %d (up removes it)", row.Number)
		}
		st.Services = append(st.Services, row)
	}
	sort.SliceStable(st.Services, func(i, j int) bool {
		a, b := st.Services[i], st.Services[j]
		if a.Service != b.Service {
			return target.NaturalLess(a.Service, b.Service)
		}
		return a.Number < b.Number
	})
	if err := d.explainUnhealthy(ctx, cli, st); err != nil {
		return nil, err
	}
	return st, nil
}

// namedServices returns the named active services, or all of them, in
// natural order.
func (d *Deployment) namedServices(names []string) ([]types.ServiceConfig, error) {
	if len(names) == 0 {
		names = d.project.ServiceNames()
		target.SortNatural(names)
	}
	out := make([]types.ServiceConfig, 0, len(names))
	for _, name := range names {
		s, err := d.service(name)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// replicaContainer picks the container that stands for replica n of s: the
// one with compose's name for it when several carry its labels (a recreate
// was interrupted, or someone copied the labels).
func replicaContainer(project string, s types.ServiceConfig, n int, list []container.Summary) (container.Summary, bool) {
	var found []container.Summary
	for _, c := range list {
		if c.Labels[labelService] == s.Name && c.Labels[labelNumber] == fmt.Sprint(n) {
			found = append(found, c)
		}
	}
	canonical := containerName(project, s, n)
	for _, c := range found {
		if containerDisplayName(c) == canonical {
			return c, true
		}
	}
	if len(found) > 0 {
		return found[0], true
	}
	return container.Summary{}, false
}

func statusRow(c container.Summary, now time.Time) target.ServiceStatus {
	cs := stateFromSummary(c, now)
	s := target.ServiceStatus{
		Service:   cs.Service,
		Container: cs.Name,
		Number:    cs.Number,
		State:     cs.State,
		Health:    cs.Health,
		ExitCode:  cs.ExitCode,
		Image:     c.Image,
		StartedAt: cs.StartedAt,
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
	return s
}

// explainUnhealthy adds the last healthcheck output to the reason of each
// unhealthy container: the list does not carry it.
func (d *Deployment) explainUnhealthy(ctx context.Context, cli dockerapi.API, st *target.DeploymentStatus) error {
	g, gctx := errgroup.WithContext(ctx)
	for i := range st.Services {
		row := &st.Services[i]
		if row.Health != target.HealthUnhealthy || row.Container == "" || !row.Counted {
			continue
		}
		g.Go(func() error {
			res, err := cli.ContainerInspect(gctx, row.Container, client.ContainerInspectOptions{})
			if err != nil {
				if isNotFound(err) {
					return nil // removed since the list
				}
				return fmt.Errorf("inspect %s: %w", row.Container, err)
			}
			if h := res.Container.State.Health; h != nil && len(h.Log) > 0 {
				last := h.Log[len(h.Log)-1]
				row.Reason = fmt.Sprintf("unhealthy: last healthcheck (exit %d): %s", last.ExitCode, oneLine(last.Output))
			}
			return nil
		})
	}
	return g.Wait()
}
