package swarm

import (
	"context"
	"fmt"
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
	progress := orNoProgress(opts.Progress)
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, opts.Timeout, &timeoutError{opts.Timeout})
		defer cancel()
	}
	services, err := d.selected(opts.Services, false)
	if err != nil {
		return err
	}
	api, err := d.managerAPI(ctx)
	if err != nil {
		return err
	}
	obs, err := d.observe(ctx, api)
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
	return d.waitReady(ctx, api, services, time.Now(), progress)
}

func (d *Deployment) rollingRestart(ctx context.Context, api dockerapi.API, name string, svc swarm.Service, noWait bool, progress target.Progress) error {
	res := target.ServiceOf(svc.Spec.Name)
	progress.Event(target.ProgressEvent{Time: time.Now(), Resource: res, Service: name, Action: target.ActionRestarting})
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
	for {
		res, err := api.ServiceInspect(ctx, id, client.ServiceInspectOptions{})
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("service %q: %w", name, err)
		}
		if err == nil {
			if us := res.Service.UpdateStatus; us != nil && us.StartedAt != nil && (before == nil || !us.StartedAt.Equal(*before)) {
				switch us.State {
				case swarm.UpdateStateCompleted:
					return nil
				case swarm.UpdateStatePaused, swarm.UpdateStateRollbackStarted, swarm.UpdateStateRollbackCompleted, swarm.UpdateStateRollbackPaused:
					return fmt.Errorf("service %q: the rolling restart %s: %s", name, us.State, us.Message)
				}
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("service %q: rolling restart: %w", name, context.Cause(ctx))
		case <-ticker.C:
		}
	}
}
