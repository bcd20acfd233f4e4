package swarm

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
	"github.com/opdeploy/opdeploy/target/local"
)

// The Operator on a swarm acts on a service's tasks: the manager lists
// them, and each task's container is signalled, stopped or exec'd into
// through its node's engine (nodes.go says how nodes are reached). The
// swarm then does what it does with a task whose container ended: starts
// a replacement, as its restart policy says.
var _ target.Operator = (*Deployment)(nil)

func isNotFound(err error) bool { return errdefs.IsNotFound(err) }

// Containers returns the service's status rows: one per task that should
// run.
func (d *Deployment) Containers(ctx context.Context, service string) ([]target.ServiceStatus, error) {
	_, _, obs, err := d.look(ctx, []string{service})
	if err != nil {
		return nil, err
	}
	return d.rows(obs, []string{service}, time.Now()), nil
}

// runningTasks are the tasks of a service the swarm wants running whose
// container runs, with their node.
type runningTask struct {
	task swarm.Task
	node swarm.Node
	name string
}

func (d *Deployment) runningTasks(ctx context.Context, service string) ([]runningTask, observed, error) {
	_, _, obs, err := d.look(ctx, []string{service})
	if err != nil {
		return nil, obs, err
	}
	var out []runningTask
	for _, t := range obs.tasks[service] {
		if t.DesiredState != swarm.TaskStateRunning || t.Status.State != swarm.TaskStateRunning || t.Status.ContainerStatus == nil {
			continue
		}
		out = append(out, runningTask{task: t, node: obs.nodes[t.NodeID], name: taskName(obs.services[service], t, obs)})
	}
	return out, obs, nil
}

// firstTask is the lowest-slot running task of a service (any task when
// running is false and none runs).
func firstTask(obs observed, service string, running bool) (swarm.Task, bool) {
	var best swarm.Task
	found := false
	for _, t := range obs.tasks[service] {
		if t.DesiredState != swarm.TaskStateRunning || t.Status.State != swarm.TaskStateRunning {
			continue
		}
		if !found || t.Slot < best.Slot {
			best, found = t, true
		}
	}
	if !found && !running {
		for _, t := range obs.tasks[service] {
			if !found || t.Meta.CreatedAt.After(best.Meta.CreatedAt) {
				best, found = t, true
			}
		}
	}
	return best, found
}

// eachTask runs fn on every running task's container, through its node,
// and returns the tasks it acted on.
func (d *Deployment) eachTask(ctx context.Context, service, verb string, fn func(api dockerapi.API, id string) error) ([]runningTask, error) {
	tasks, _, err := d.runningTasks(ctx, service)
	if err != nil {
		return nil, err
	}
	if len(tasks) == 0 {
		return nil, fmt.Errorf("service %q has no running task to %s", service, verb)
	}
	for _, rt := range tasks {
		api, err := d.nodeAPI(ctx, rt.node)
		if err != nil {
			return nil, err
		}
		if err := fn(api, rt.task.Status.ContainerStatus.ContainerID); err != nil && !isNotFound(err) {
			return nil, fmt.Errorf("%s task %s on node %s: %w", verb, rt.name, rt.node.Description.Hostname, err)
		}
	}
	return tasks, nil
}

// noticeBound is how long Kill and Stop wait for the manager to see that
// the tasks they ended no longer run.
const noticeBound = 10 * time.Second

// awaitNotice waits until the manager no longer reports the tasks as
// running, so that a status or wait right after a kill does not see the
// killed tasks as ready: the manager learns of a container's end from the
// node's agent, a moment later. A signal that does not end the process
// (SIGHUP, say) leaves the task running; the wait then gives up quietly
// after noticeBound.
func (d *Deployment) awaitNotice(ctx context.Context, tasks []runningTask) error {
	api, err := d.managerAPI(ctx)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(noticeBound)
	for _, rt := range tasks {
		for time.Now().Before(deadline) {
			res, err := api.TaskInspect(ctx, rt.task.ID, client.TaskInspectOptions{})
			if err != nil || res.Task.Status.State != swarm.TaskStateRunning {
				break
			}
			select {
			case <-ctx.Done():
				return context.Cause(ctx)
			case <-time.After(pollInterval / 2):
			}
		}
	}
	return nil
}

// Kill signals every task's container; the swarm replaces a task whose
// container dies.
func (d *Deployment) Kill(ctx context.Context, service, signal string) error {
	tasks, err := d.eachTask(ctx, service, "kill", func(api dockerapi.API, id string) error {
		_, err := api.ContainerKill(ctx, id, client.ContainerKillOptions{Signal: signal})
		return err
	})
	if err != nil {
		return err
	}
	return d.awaitNotice(ctx, tasks)
}

// Stop stops every task's container, with the service's grace period (or
// timeout when positive); the swarm then starts replacements, as its
// restart policy says — a swarm has no "stopped" service short of scaling
// it to zero.
func (d *Deployment) Stop(ctx context.Context, service string, timeout time.Duration) error {
	tasks, err := d.eachTask(ctx, service, "stop", func(api dockerapi.API, id string) error {
		opts := client.ContainerStopOptions{}
		if timeout > 0 {
			secs := int(timeout.Seconds())
			opts.Timeout = &secs
		}
		_, err := api.ContainerStop(ctx, id, opts)
		return err
	})
	if err != nil {
		return err
	}
	return d.awaitNotice(ctx, tasks)
}

// Start waits until the swarm runs the service's tasks again: it starts
// replacements for stopped tasks itself.
func (d *Deployment) Start(ctx context.Context, service string) error {
	return d.WaitHealthy(ctx, []string{service}, 0)
}

func (d *Deployment) Pause(ctx context.Context, service string) error {
	_, err := d.eachTask(ctx, service, "pause", func(api dockerapi.API, id string) error {
		_, err := api.ContainerPause(ctx, id, client.ContainerPauseOptions{})
		return err
	})
	return err
}

func (d *Deployment) Unpause(ctx context.Context, service string) error {
	tasks, _, err := d.runningTasks(ctx, service)
	if err != nil {
		return err
	}
	for _, rt := range tasks {
		api, err := d.nodeAPI(ctx, rt.node)
		if err != nil {
			return err
		}
		if _, err := api.ContainerUnpause(ctx, rt.task.Status.ContainerStatus.ContainerID, client.ContainerUnpauseOptions{}); err != nil && !isNotFound(err) && !errdefs.IsConflict(err) {
			return fmt.Errorf("unpause task %s: %w", rt.name, err)
		}
	}
	return nil
}

// Exec runs a command in the service's first running task, through its
// node's engine.
func (d *Deployment) Exec(ctx context.Context, service string, command []string) (target.ExecResult, error) {
	tasks, _, err := d.runningTasks(ctx, service)
	if err != nil {
		return target.ExecResult{}, err
	}
	if len(tasks) == 0 {
		return target.ExecResult{}, fmt.Errorf("service %q has no running task to exec in", service)
	}
	first := tasks[0]
	for _, rt := range tasks[1:] {
		if rt.task.Slot < first.task.Slot {
			first = rt
		}
	}
	api, err := d.nodeAPI(ctx, first.node)
	if err != nil {
		return target.ExecResult{}, err
	}
	return local.ExecIn(ctx, api, first.task.Status.ContainerStatus.ContainerID, first.name, command)
}

// Disconnect and Connect are not supported: a task's container cannot be
// disconnected from a swarm-scoped network on its own.
func (d *Deployment) Disconnect(ctx context.Context, service string) error {
	return target.ErrNotSupported
}

func (d *Deployment) Connect(ctx context.Context, service string) error {
	return target.ErrNotSupported
}

// WaitHealthy waits until every task of the services is ready (timeout 0:
// until ctx ends).
func (d *Deployment) WaitHealthy(ctx context.Context, services []string, timeout time.Duration) error {
	sel, err := d.selected(services, false)
	if err != nil {
		return err
	}
	if len(services) == 0 {
		sel = d.project.ServiceNames()
		target.SortNatural(sel)
	}
	api, err := d.managerAPI(ctx)
	if err != nil {
		return err
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, timeout, &timeoutError{timeout})
		defer cancel()
	}
	return d.waitFor(ctx, api, "wait_healthy", func(obs observed, now time.Time) (bool, string, error) {
		rows := d.rows(obs, sel, now)
		return allReady(rows), notReady(rows), nil
	})
}

// Endpoint returns host:port reaching the service's first running task on
// a container port: the task's node address and the port it publishes
// there in mode host. Ingress-published ports need the routing mesh
// (IPVS), which not every kernel has; docs/swarm.md.
func (d *Deployment) Endpoint(ctx context.Context, service string, port int) (string, error) {
	tasks, _, err := d.runningTasks(ctx, service)
	if err != nil {
		return "", err
	}
	if len(tasks) == 0 {
		return "", fmt.Errorf("service %q has no running task", service)
	}
	first := tasks[0]
	for _, rt := range tasks[1:] {
		if rt.task.Slot < first.task.Slot {
			first = rt
		}
	}
	for _, p := range first.task.Status.PortStatus.Ports {
		if int(p.TargetPort) == port && p.PublishMode == swarm.PortConfigPublishModeHost {
			return net.JoinHostPort(first.node.Status.Addr, strconv.Itoa(int(p.PublishedPort))), nil
		}
	}
	return "", fmt.Errorf("service %q publishes no port for container port %d in mode host: on a swarm, opdeploy reaches a task through a port its node publishes (ports: [{target: %d, published: N, mode: host}])", service, port, port)
}
