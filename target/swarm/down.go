package swarm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// downBound is how long down waits for removed services' tasks to be gone
// beyond their stop grace period, before their networks can go.
const downBound = 30 * time.Second

// Down removes the project's services (orphans too), waits until their
// tasks are gone, then removes its networks; its named volumes — one per
// node that ran a task using it — only with -v.
func (d *Deployment) Down(ctx context.Context, opts target.DownOptions) error {
	progress := target.OrNoProgress(opts.Progress)
	api, err := d.managerAPI(ctx)
	if err != nil {
		return err
	}
	obs, err := d.observe(ctx, api)
	if err != nil {
		return err
	}
	var grace time.Duration
	for name, svc := range obs.services {
		if cs := svc.Spec.TaskTemplate.ContainerSpec; cs != nil && cs.StopGracePeriod != nil {
			grace = max(grace, *cs.StopGracePeriod)
		}
		if err := removeService(ctx, api, svc, progress); err != nil {
			return fmt.Errorf("service %q: %w", name, err)
		}
	}
	for _, o := range obs.orphans {
		if err := removeService(ctx, api, o, progress); err != nil {
			return err
		}
	}
	if opts.Timeout > 0 {
		grace = opts.Timeout
	}
	if err := d.waitTasksGone(ctx, api, grace+downBound, progress); err != nil {
		return err
	}
	if err := d.removeNetworks(ctx, api, progress); err != nil {
		return err
	}
	if opts.Volumes {
		return d.removeVolumes(ctx, obs, progress)
	}
	return nil
}

// waitTasksGone waits until no task of the project still runs (or is on
// its way to running) on a Ready node: a network cannot be removed while
// tasks are attached. Tasks that ended are not waited for — a swarm keeps
// a removed job's finished tasks for good (moby/moby#44312) — and neither
// are tasks on nodes that are not Ready: their containers go when the
// node comes back, and down says so.
func (d *Deployment) waitTasksGone(ctx context.Context, api dockerapi.API, bound time.Duration, progress target.Progress) error {
	ctx, cancel := context.WithTimeoutCause(ctx, bound, &timeoutError{bound})
	defer cancel()
	f := client.Filters{}
	f.Add("label", labelNamespace+"="+d.project.Name)
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	warned := map[string]bool{}
	for {
		res, err := api.TaskList(ctx, client.TaskListOptions{Filters: f})
		var nodes client.NodeListResult
		if err == nil {
			nodes, err = api.NodeList(ctx, client.NodeListOptions{})
		}
		if err == nil {
			ready := map[string]string{}
			for _, n := range nodes.Items {
				if n.Status.State == swarm.NodeStateReady {
					ready[n.ID] = n.Description.Hostname
				}
			}
			live := 0
			for _, t := range res.Items {
				if ended(t.Status.State) {
					continue
				}
				if _, ok := ready[t.NodeID]; !ok && t.NodeID != "" {
					if !warned[t.NodeID] {
						warned[t.NodeID] = true
						progress.Event(target.ProgressEvent{Time: time.Now(), Action: target.ActionWarning,
							Detail: fmt.Sprintf("node %s is not ready: its tasks' containers are removed when it comes back", dockerapi.ShortID(t.NodeID))})
					}
					continue
				}
				live++
			}
			if live == 0 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			cause := context.Cause(ctx)
			var te *timeoutError
			if errors.As(cause, &te) {
				return fmt.Errorf("down: tasks of project %s still running after %s", d.project.Name, bound)
			}
			return cause
		case <-ticker.C:
		}
	}
}

// ended says whether a task's state is final.
func ended(s swarm.TaskState) bool {
	switch s {
	case swarm.TaskStateComplete, swarm.TaskStateShutdown, swarm.TaskStateFailed, swarm.TaskStateRejected, swarm.TaskStateOrphaned, swarm.TaskStateRemove:
		return true
	}
	return false
}

// removeLeftContainers removes, on a node, the containers of the
// project's tasks that the swarm left behind (a removed job's finished
// tasks): they would keep its volumes in use.
func removeLeftContainers(ctx context.Context, api dockerapi.API, project string) {
	f := client.Filters{}
	f.Add("label", labelNamespace+"="+project)
	res, err := api.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return
	}
	for _, c := range res.Items {
		if c.State != "running" {
			_, _ = api.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true})
		}
	}
}

// removeNetworks removes the project's networks, retrying while the swarm
// still detaches the last tasks from them.
func (d *Deployment) removeNetworks(ctx context.Context, api dockerapi.API, progress target.Progress) error {
	f := client.Filters{}
	f.Add("label", labelNamespace+"="+d.project.Name)
	res, err := api.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return fmt.Errorf("list networks: %w", err)
	}
	for _, n := range res.Items {
		r := target.Network(n.Name)
		progress.Event(target.ProgressEvent{Time: time.Now(), Resource: r, Action: target.ActionRemoving})
		deadline := time.Now().Add(downBound)
		for {
			_, err = api.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{})
			if err == nil || isNotFound(err) || time.Now().After(deadline) || ctx.Err() != nil {
				break
			}
			time.Sleep(pollInterval) // no event says when the last endpoint left
		}
		if err != nil && !isNotFound(err) {
			err = fmt.Errorf("remove network %s: %w", n.Name, err)
			progress.Event(target.ProgressEvent{Time: time.Now(), Resource: r, Action: target.ActionRemoving, Done: true, Err: err})
			return err
		}
		progress.Event(target.ProgressEvent{Time: time.Now(), Resource: r, Action: target.ActionRemoved, Done: true})
	}
	return nil
}

// removeVolumes removes the project's named volumes from every node: a
// swarm has no cluster volumes for the local driver, each node that ran a
// task made its own.
func (d *Deployment) removeVolumes(ctx context.Context, obs observed, progress target.Progress) error {
	f := client.Filters{}
	f.Add("label", labelNamespace+"="+d.project.Name)
	for _, n := range loadableNodesAll(obs) {
		api, err := d.nodeAPI(ctx, n)
		if err != nil {
			return err
		}
		removeLeftContainers(ctx, api, d.project.Name)
		res, err := api.VolumeList(ctx, client.VolumeListOptions{Filters: f})
		if err != nil {
			return fmt.Errorf("list volumes on node %s: %w", n.Description.Hostname, err)
		}
		for _, v := range res.Items {
			r := target.Volume(v.Name + " on " + n.Description.Hostname)
			progress.Event(target.ProgressEvent{Time: time.Now(), Resource: r, Action: target.ActionRemoving})
			if err := removeVolume(ctx, api, v.Name); err != nil {
				err = fmt.Errorf("remove volume %s on node %s: %w", v.Name, n.Description.Hostname, err)
				progress.Event(target.ProgressEvent{Time: time.Now(), Resource: r, Action: target.ActionRemoving, Done: true, Err: err})
				return err
			}
			progress.Event(target.ProgressEvent{Time: time.Now(), Resource: r, Action: target.ActionRemoved, Done: true})
		}
	}
	return nil
}

// removeVolume removes a volume from a node's engine. The node's agent
// removes the containers of a removed service's tasks a moment after the
// manager forgets the tasks, and a volume is in use until then: a
// conflict is retried, up to downBound.
func removeVolume(ctx context.Context, api dockerapi.API, name string) error {
	deadline := time.Now().Add(downBound)
	for {
		_, err := api.VolumeRemove(ctx, name, client.VolumeRemoveOptions{})
		if err == nil || isNotFound(err) {
			return nil
		}
		if !errdefs.IsConflict(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(pollInterval): // no event says when the agent removed the container
		}
	}
}
