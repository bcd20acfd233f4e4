package swarm

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// Restart rolls each service's tasks through a forced service update: the
// swarm replaces them as the service's update_config says (by default one
// at a time, each running — healthy, when it has a healthcheck — before
// the next). Services restart one after another, in dependency order;
// Restart returns when every update completed and all tasks are ready.
func (d *Deployment) Restart(ctx context.Context, opts target.RestartOptions) error {
	progress := target.OrNoProgress(opts.Progress)
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, opts.Timeout, &timeoutError{opts.Timeout})
		defer cancel()
	}
	services, api, obs, err := d.look(ctx, opts.Services)
	if err != nil {
		return err
	}
	for _, name := range services {
		svc, ok := obs.services[name]
		if !ok {
			return fmt.Errorf("service %q is not deployed: run up first", name)
		}
		if err := d.rollingRestart(ctx, api, name, svc, opts.NoWait, progress); err != nil {
			return err
		}
	}
	if opts.NoWait {
		return nil
	}
	return d.waitReady(ctx, api, services, time.Now(), progress, map[string]bool{})
}

func (d *Deployment) rollingRestart(ctx context.Context, api dockerapi.API, name string, svc swarm.Service, noWait bool, progress target.Progress) error {
	res := target.ServiceOf(svc.Spec.Name)
	progress.Event(target.ProgressEvent{Time: time.Now(), Resource: res, Service: name, Action: target.ActionRestarting})
	if !noWait && d.rollsItself(svc) {
		err := d.healthGatedRoll(ctx, api, name, svc)
		if err != nil {
			progress.Event(target.ProgressEvent{Time: time.Now(), Resource: res, Service: name, Action: target.ActionRestarting, Done: true, Err: err})
			return err
		}
		progress.Event(target.ProgressEvent{Time: time.Now(), Resource: res, Service: name, Action: target.ActionRestarted, Done: true})
		return nil
	}
	spec := svc.Spec
	spec.TaskTemplate.ForceUpdate++
	var before *time.Time // the last update's start, to tell ours from it
	if svc.UpdateStatus != nil {
		before = svc.UpdateStatus.StartedAt
	}
	if _, err := api.ServiceUpdate(ctx, svc.ID, client.ServiceUpdateOptions{Version: svc.Version, Spec: spec}); err != nil {
		err = fmt.Errorf("service %q: restart: %w", name, err)
		progress.Event(target.ProgressEvent{Time: time.Now(), Resource: res, Service: name, Action: target.ActionRestarting, Done: true, Err: err})
		return err
	}
	if noWait {
		return nil
	}
	err := d.waitUpdate(ctx, api, name, svc.ID, before)
	if err != nil {
		progress.Event(target.ProgressEvent{Time: time.Now(), Resource: res, Service: name, Action: target.ActionRestarting, Done: true, Err: err})
		return err
	}
	progress.Event(target.ProgressEvent{Time: time.Now(), Resource: res, Service: name, Action: target.ActionRestarted, Done: true})
	return nil
}

// waitUpdate waits until the service's update — the first whose start
// differs from before's, read off the manager's clock, not ours —
// completed; a paused or rolled-back update is an error with the swarm's
// message.
func (d *Deployment) waitUpdate(ctx context.Context, api dockerapi.API, name, id string, before *time.Time) error {
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	state := "not started"
	for {
		res, err := api.ServiceInspect(ctx, id, client.ServiceInspectOptions{})
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("service %q: %w", name, err)
		}
		if err == nil {
			if us := res.Service.UpdateStatus; us != nil && us.StartedAt != nil && (before == nil || !us.StartedAt.Equal(*before)) {
				state = string(us.State)
				if us.Message != "" {
					state += ": " + us.Message
				}
				switch us.State {
				case swarm.UpdateStateCompleted:
					return nil
				case swarm.UpdateStatePaused, swarm.UpdateStateRollbackStarted, swarm.UpdateStateRollbackCompleted, swarm.UpdateStateRollbackPaused:
					return fmt.Errorf("service %q: the swarm's rolling update %s: %s", name, us.State, us.Message)
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("service %q: the swarm's rolling update did not complete: %w (update %s)", name, context.Cause(ctx), state)
		case <-ticker.C:
		}
	}
}

// rollsItself says whether opdeploy rolls the service's tasks itself: when
// opdeploy runs its healthcheck (health.go), a forced update would be
// gated only on tasks running, not on their health. It can when the swarm
// restarts any task that ends (restart condition any, the default), so
// that stopping a task's container makes the swarm start its replacement.
func (d *Deployment) rollsItself(svc swarm.Service) bool {
	cs := svc.Spec.TaskTemplate.ContainerSpec
	if cs == nil || cs.Labels[labelHealthRunner] != healthByOpdeploy {
		return false
	}
	rp := svc.Spec.TaskTemplate.RestartPolicy
	return rp == nil || rp.Condition == "" || rp.Condition == swarm.RestartPolicyConditionAny
}

// healthGatedRoll restarts the service's tasks slot by slot, in slot order,
// update_config.parallelism at a time (1 by default), with its delay
// between: it stops a task's container through its node, then waits until
// the swarm's replacement for that slot runs and passes the healthcheck
// before the next.
func (d *Deployment) healthGatedRoll(ctx context.Context, api dockerapi.API, name string, svc swarm.Service) error {
	parallelism, delay := 1, time.Duration(0)
	if uc := svc.Spec.UpdateConfig; uc != nil {
		if uc.Parallelism > 0 {
			parallelism = int(uc.Parallelism)
		}
		delay = uc.Delay
	}
	tasks, _, err := d.runningTasks(ctx, name)
	if err != nil {
		return err
	}
	sort.Slice(tasks, func(i, j int) bool { return tasks[i].task.Slot < tasks[j].task.Slot })
	for start := 0; start < len(tasks); start += parallelism {
		batch := tasks[start:min(start+parallelism, len(tasks))]
		old := map[string]bool{}
		for _, rt := range batch {
			old[rt.task.ID] = true
			node, err := d.nodeAPI(ctx, rt.node)
			if err != nil {
				return err
			}
			if _, err := node.ContainerStop(ctx, rt.task.Status.ContainerStatus.ContainerID, client.ContainerStopOptions{}); err != nil && !isNotFound(err) {
				return fmt.Errorf("service %q: restart task %s on node %s: %w", name, rt.name, rt.node.Description.Hostname, err)
			}
		}
		// Done when the swarm wants none of the stopped tasks any more
		// (it has noticed they ended) and every row — the replacements —
		// is ready. By task ID, not slot: a global service's tasks have
		// none.
		err := d.waitFor(ctx, api, fmt.Sprintf("service %q: rolling restart", name), func(obs observed, now time.Time) (bool, string, error) {
			var pending []string
			for _, t := range obs.tasks[name] {
				if old[t.ID] && wantedUp(t) {
					pending = append(pending, taskName(obs.services[name], t, obs)+": being replaced")
				}
			}
			rows := d.rows(obs, []string{name}, now)
			for _, r := range rows {
				if r.Counted && !r.Ready {
					pending = append(pending, fmt.Sprintf("%s: %s", r.Container, r.Reason))
				}
			}
			return len(pending) == 0, strings.Join(pending, "; "), nil
		})
		if err != nil {
			return err
		}
		if delay > 0 && start+parallelism < len(tasks) {
			select {
			case <-ctx.Done():
				return context.Cause(ctx)
			case <-time.After(delay): // update_config.delay, as the swarm waits it
			}
		}
	}
	return nil
}
