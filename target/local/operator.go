package local

import (
	"context"
	"fmt"
	"math"
	"net"
	"strconv"
	"time"

	"github.com/moby/moby/client"
	"golang.org/x/sync/errgroup"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
)

var _ target.Operator = (*Deployment)(nil)

// serviceContainers lists the containers of one service, in replica order.
func (d *Deployment) serviceContainers(ctx context.Context, service string) (dockerapi.API, []containerState, error) {
	if _, err := d.service(service); err != nil {
		return nil, nil, err
	}
	cli, err := d.engine.Client(ctx)
	if err != nil {
		return nil, nil, err
	}
	list, err := listProjectContainers(ctx, cli, d.project.Name)
	if err != nil {
		return nil, nil, err
	}
	var out []containerState
	for _, c := range list {
		if c.Labels[labelService] == service {
			out = append(out, *stateFromSummary(c, time.Now()))
		}
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Number < out[j-1].Number; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	if len(out) == 0 {
		return nil, nil, fmt.Errorf("service %q has no containers in project %q; run up first", service, d.project.Name)
	}
	return cli, out, nil
}

// Containers reports the service's containers.
func (d *Deployment) Containers(ctx context.Context, service string) ([]target.ServiceStatus, error) {
	st, err := d.Status(ctx, target.StatusOptions{Services: []string{service}})
	if err != nil {
		return nil, err
	}
	return st.Services, nil
}

// each runs fn on every container of the service, in parallel.
func (d *Deployment) each(ctx context.Context, service string, fn func(ctx context.Context, cli dockerapi.API, c containerState) error) error {
	cli, cs, err := d.serviceContainers(ctx, service)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, c := range cs {
		g.Go(func() error { return fn(gctx, cli, c) })
	}
	return g.Wait()
}

func (d *Deployment) Stop(ctx context.Context, service string, timeout time.Duration) error {
	var t *int
	if timeout > 0 {
		secs := int(math.Ceil(timeout.Seconds())) // the engine takes whole seconds; never round a grace period down to none
		t = &secs
	}
	return d.each(ctx, service, func(ctx context.Context, cli dockerapi.API, c containerState) error {
		_, err := cli.ContainerStop(ctx, c.ID, client.ContainerStopOptions{Timeout: t})
		return wrapOp("stop", c, err)
	})
}

func (d *Deployment) Start(ctx context.Context, service string) error {
	return d.each(ctx, service, func(ctx context.Context, cli dockerapi.API, c containerState) error {
		if c.State == target.StateRunning {
			return nil
		}
		_, err := cli.ContainerStart(ctx, c.ID, client.ContainerStartOptions{})
		return wrapOp("start", c, err)
	})
}

func (d *Deployment) Kill(ctx context.Context, service, signal string) error {
	return d.each(ctx, service, func(ctx context.Context, cli dockerapi.API, c containerState) error {
		_, err := cli.ContainerKill(ctx, c.ID, client.ContainerKillOptions{Signal: signal})
		return wrapOp("kill", c, err)
	})
}

func (d *Deployment) Pause(ctx context.Context, service string) error {
	return d.each(ctx, service, func(ctx context.Context, cli dockerapi.API, c containerState) error {
		_, err := cli.ContainerPause(ctx, c.ID, client.ContainerPauseOptions{})
		return wrapOp("pause", c, err)
	})
}

func (d *Deployment) Unpause(ctx context.Context, service string) error {
	return d.each(ctx, service, func(ctx context.Context, cli dockerapi.API, c containerState) error {
		_, err := cli.ContainerUnpause(ctx, c.ID, client.ContainerUnpauseOptions{})
		return wrapOp("unpause", c, err)
	})
}

func wrapOp(op string, c containerState, err error) error {
	if err != nil {
		return fmt.Errorf("%s %s: %w", op, c.Name, err)
	}
	return nil
}

func firstRunning(cs []containerState) (containerState, bool) {
	for _, c := range cs {
		if c.State == target.StateRunning {
			return c, true
		}
	}
	return containerState{}, false
}

// Disconnect cuts every container of the service off every network it is
// on (forcefully, as a partition would).
func (d *Deployment) Disconnect(ctx context.Context, service string) error {
	s := d.project.Services[service]
	return d.each(ctx, service, func(ctx context.Context, cli dockerapi.API, c containerState) error {
		for _, key := range networkOrder(s) {
			name := d.project.Networks[key].Name
			if _, err := cli.NetworkDisconnect(ctx, name, client.NetworkDisconnectOptions{Container: c.ID, Force: true}); err != nil && !isNotFound(err) {
				return fmt.Errorf("disconnect %s from %s: %w", c.Name, name, err)
			}
		}
		return nil
	})
}

// Connect reattaches the service's containers to their networks with the
// aliases up gave them, so names resolve again.
func (d *Deployment) Connect(ctx context.Context, service string) error {
	s := d.project.Services[service]
	return d.each(ctx, service, func(ctx context.Context, cli dockerapi.API, c containerState) error {
		spec, err := buildContainerSpec(d.project, s, specOptions{Number: c.Number})
		if err != nil {
			return err
		}
		res, err := cli.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
		if err != nil {
			return err
		}
		for _, n := range spec.Networks {
			if _, attached := res.Container.NetworkSettings.Networks[n.Network]; attached {
				continue
			}
			if _, err := cli.NetworkConnect(ctx, n.Network, client.NetworkConnectOptions{Container: c.ID, EndpointConfig: n.Endpoint}); err != nil {
				return fmt.Errorf("connect %s to %s: %w", c.Name, n.Network, err)
			}
		}
		return nil
	})
}

// WaitHealthy waits until every container of the services is ready (see
// readiness), driven by events.
func (d *Deployment) WaitHealthy(ctx context.Context, services []string, timeout time.Duration) error {
	cfgs, err := d.namedServices(services)
	if err != nil {
		return err
	}
	sess, err := d.open(ctx, nil, sessionNeeds{monitor: true})
	if err != nil {
		return err
	}
	defer sess.close()
	cli, mon := sess.cli, sess.mon
	return d.waitExecutor(cli, mon, target.NoProgress, cfgs, false).waitReady(ctx, cfgs, timeout)
}

// Endpoint finds how this machine reaches a container port: the host port
// it is published on, else the container's address on a project network
// (bridge networks are routable from the host on Linux).
func (d *Deployment) Endpoint(ctx context.Context, service string, port int) (string, error) {
	cli, cs, err := d.serviceContainers(ctx, service)
	if err != nil {
		return "", err
	}
	c, ok := firstRunning(cs)
	if !ok {
		return "", fmt.Errorf("service %q has no running container", service)
	}
	res, err := cli.ContainerInspect(ctx, c.ID, client.ContainerInspectOptions{})
	if err != nil {
		return "", err
	}
	ns := res.Container.NetworkSettings
	for p, bindings := range ns.Ports {
		if int(p.Num()) != port || p.Proto() != "tcp" {
			continue
		}
		for _, b := range bindings {
			host := "127.0.0.1"
			switch {
			case b.HostIP.IsValid() && !b.HostIP.IsUnspecified():
				host = b.HostIP.String()
			case b.HostIP.IsValid() && b.HostIP.Is6():
				host = "::1" // published on every IPv6 address
			}
			if b.HostPort != "" {
				return net.JoinHostPort(host, b.HostPort), nil
			}
		}
	}
	for _, key := range networkOrder(d.project.Services[service]) {
		if ep, ok := ns.Networks[d.project.Networks[key].Name]; ok {
			switch {
			case ep.IPAddress.IsValid():
				return net.JoinHostPort(ep.IPAddress.String(), strconv.Itoa(port)), nil
			case ep.GlobalIPv6Address.IsValid():
				return net.JoinHostPort(ep.GlobalIPv6Address.String(), strconv.Itoa(port)), nil
			}
		}
	}
	return "", fmt.Errorf("service %q: port %d is not published and the container has no address on a project network", service, port)
}

// LogTail returns the last n lines of the service's first container.
func (d *Deployment) LogTail(ctx context.Context, service string, n int) []string {
	cli, cs, err := d.serviceContainers(ctx, service)
	if err != nil {
		return nil
	}
	return tailLogs(ctx, cli, cs[0].ID, n)
}
