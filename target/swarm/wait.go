package swarm

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// pollInterval is how often a wait lists tasks again. A swarm manager of
// API 1.41 emits no event when a task changes state (only services,
// nodes, networks, secrets and configs have events), so waits on tasks
// re-list them; three calls per look, whatever the size of the project.
// Service and node events (an update's progress, a node going down) wake
// a wait at once.
const pollInterval = 250 * time.Millisecond

// waitFor looks at the project until done says so or fails, or ctx ends.
// On timeout, the error says what was still missing (pending).
func (d *Deployment) waitFor(ctx context.Context, api dockerapi.API, what string, look func(obs observed, now time.Time) (done bool, pending string, err error)) error {
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	ectx, stopEvents := context.WithCancel(ctx)
	defer stopEvents()
	wake := d.swarmEvents(ectx, api)
	pending := ""
	for {
		obs, err := d.observe(ctx, api)
		if err != nil && ctx.Err() == nil {
			return err
		}
		if err == nil {
			done, p, err := look(obs, time.Now())
			if err != nil || done {
				return err
			}
			pending = p
		}
		select {
		case <-ctx.Done():
			cause := context.Cause(ctx)
			var te *timeoutError
			if errors.As(cause, &te) {
				return fmt.Errorf("%s: %w; still waiting for %s", what, cause, pending)
			}
			return cause
		case <-ticker.C:
		case <-wake:
		}
	}
}

// swarmEvents delivers a signal for each service or node event, until ctx
// ends. A subscription that fails or drops is not retried: the ticker's
// re-list covers what it would have said.
func (d *Deployment) swarmEvents(ctx context.Context, api dockerapi.API) <-chan struct{} {
	wake := make(chan struct{}, 1)
	f := client.Filters{}
	f.Add("type", "service")
	f.Add("type", "node")
	res := api.Events(ctx, client.EventsListOptions{Filters: f})
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case _, ok := <-res.Messages:
				if !ok {
					return
				}
				select {
				case wake <- struct{}{}:
				default:
				}
			case <-res.Err:
				return
			}
		}
	}()
	return wake
}

// waitReady waits until every task of the services is ready, failing at
// once when a task started by this up fails.
// announced holds the services already reported ready.
func (d *Deployment) waitReady(ctx context.Context, api dockerapi.API, services []string, since time.Time, progress target.Progress, announced map[string]bool) error {
	for _, s := range services {
		if announced[s] {
			continue
		}
		progress.Event(target.ProgressEvent{Time: time.Now(), Resource: target.ServiceOf(s), Service: s, Action: target.ActionWaiting})
	}
	return d.waitFor(ctx, api, "up", func(obs observed, now time.Time) (bool, string, error) {
		if err := d.failedSince(ctx, obs, services, since); err != nil {
			return false, "", err
		}
		rows := d.rows(obs, services, now)
		for _, s := range services {
			if !announced[s] && allReady(rowsOf(rows, s)) {
				announced[s] = true
				progress.Event(target.ProgressEvent{Time: time.Now(), Resource: target.ServiceOf(s), Service: s, Action: target.ActionReady, Done: true})
			}
		}
		return allReady(rows), notReady(rows), nil
	})
}

// waitDependencies waits until the services a service depends on have
// reached their depends_on condition, reporting each as it does.
func (d *Deployment) waitDependencies(ctx context.Context, api dockerapi.API, service string, since time.Time, progress target.Progress, announced map[string]bool) error {
	deps := d.project.Services[service].DependsOn
	if len(deps) == 0 {
		return nil
	}
	names := make([]string, 0, len(deps))
	for n := range deps {
		if _, ok := d.project.Services[n]; ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	waiting := map[string]bool{}
	for _, dep := range names {
		if !announced[dep] {
			waiting[dep] = true
			progress.Event(target.ProgressEvent{Time: time.Now(), Resource: target.ServiceOf(dep), Service: dep, Action: target.ActionWaiting, Detail: deps[dep].Condition + ", for " + service})
		}
	}
	return d.waitFor(ctx, api, fmt.Sprintf("service %q waits on its dependencies", service), func(obs observed, now time.Time) (bool, string, error) {
		var pending []string
		for _, dep := range names {
			before := len(pending)
			rows := d.rows(obs, []string{dep}, now)
			switch deps[dep].Condition {
			case types.ServiceConditionHealthy, types.ServiceConditionCompletedSuccessfully:
				if err := d.failedSince(ctx, obs, []string{dep}, since); err != nil {
					return false, "", err
				}
				if !allReady(rows) {
					pending = append(pending, dep+" ("+deps[dep].Condition+"): "+notReady(rows))
				}
			default: // service_started: every task running, healthy or not
				for _, r := range rows {
					if r.Counted && r.State != target.StateRunning {
						pending = append(pending, dep+" (started)")
						break
					}
				}
			}
			if len(pending) == before && waiting[dep] {
				waiting[dep] = false
				if allReady(rows) {
					announced[dep] = true
					progress.Event(target.ProgressEvent{Time: time.Now(), Resource: target.ServiceOf(dep), Service: dep, Action: target.ActionReady, Done: true})
				}
			}
		}
		return len(pending) == 0, strings.Join(pending, "; "), nil
	})
}

// failedSince returns an error for the first task of the services, made
// since up started, that failed, was rejected, or (for a service meant to
// keep running) exited: a swarm would retry it, but up reports it, with
// its last log lines, as the local target does.
func (d *Deployment) failedSince(ctx context.Context, obs observed, services []string, since time.Time) error {
	for _, name := range services {
		svc := obs.services[name]
		job := svc.Spec.Mode.ReplicatedJob != nil || svc.Spec.Mode.GlobalJob != nil
		for _, t := range obs.tasks[name] {
			if t.Meta.CreatedAt.Before(since) {
				continue
			}
			bad := t.Status.State == swarm.TaskStateFailed || t.Status.State == swarm.TaskStateRejected ||
				(!job && t.Status.State == swarm.TaskStateComplete && t.DesiredState == swarm.TaskStateRunning)
			if !bad {
				continue
			}
			msg := fmt.Sprintf("service %q: task %s on node %s %s", name, taskName(svc, t, obs), obs.nodeName(t.NodeID), t.Status.State)
			if cs := t.Status.ContainerStatus; cs != nil && t.Status.State != swarm.TaskStateRejected {
				msg += fmt.Sprintf(" (exit code %d)", cs.ExitCode)
			}
			if t.Status.Err != "" {
				msg += ": " + t.Status.Err
			}
			if lines := d.taskLogTail(ctx, obs, t, 10); len(lines) > 0 {
				msg += "\n    last log lines:\n      " + strings.Join(lines, "\n      ")
			}
			return errors.New(msg)
		}
	}
	return nil
}

func rowsOf(rows []target.ServiceStatus, service string) []target.ServiceStatus {
	var out []target.ServiceStatus
	for _, r := range rows {
		if r.Service == service {
			out = append(out, r)
		}
	}
	return out
}

// notReady says which rows are not ready and why, for timeout messages.
func notReady(rows []target.ServiceStatus) string {
	var parts []string
	for _, r := range rows {
		if r.Counted && !r.Ready {
			name := r.Container
			if name == "" {
				name = fmt.Sprintf("%s #%d", r.Service, r.Number)
			}
			parts = append(parts, name+": "+r.Reason)
		}
	}
	return strings.Join(parts, "; ")
}
