package local

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"golang.org/x/sync/errgroup"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// waitExecutor is an executor for waiting on containers that already exist:
// every container of services (replicas 1..scale) is adopted as current.
// With restarting, each counts as ready only after a start newer than now.
func (d *Deployment) waitExecutor(cli dockerapi.API, mon *monitor, progress target.Progress, services []types.ServiceConfig, restarting bool) *executor {
	x := newExecutor(d, cli, mon, progress)
	snap, _ := mon.snapshot()
	for _, s := range services {
		for _, c := range snap {
			if c.Service != s.Name || (!restarting && (c.Number < 1 || c.Number > s.GetScale())) {
				continue
			}
			x.current[s.Name] = append(x.current[s.Name], c.ID)
			if restarting {
				x.watched[c.ID] = baseline{Fresh: true, Starts: c.Starts, Dies: c.Dies, Confirm: true}
			}
		}
	}
	return x
}

// waitDependencies blocks until every dependency of s meets its
// depends_on condition.
func (x *executor) waitDependencies(ctx context.Context, s types.ServiceConfig) error {
	for _, dep := range sortedKeys(s.DependsOn) {
		cfg := s.DependsOn[dep]
		ch, ok := x.started[dep]
		if !ok {
			continue // not selected and not required
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-ch:
		}
		depRole := x.d.role(x.d.project.Services[dep])
		x.event(target.ServiceOf(s.Name), s.Name, target.ActionWaiting, fmt.Sprintf("for %s (%s)", dep, cfg.Condition), false, nil)
		ids := x.ids(dep)
		err := x.waitConfirmed(ctx, ids, func(snap []containerState, _ time.Time) (bool, time.Time, error) {
			met, err := conditionMet(cfg.Condition, depRole, ids, x.baselines(), snap)
			return met, time.Time{}, err
		})
		if err != nil && !cfg.Required && ctx.Err() == nil {
			// An optional dependency that fails is reported, not fatal.
			x.event(target.ServiceOf(s.Name), s.Name, target.ActionWarning, fmt.Sprintf("optional dependency %s (%s) failed: %v; starting anyway", dep, cfg.Condition, err), true, nil)
			continue
		}
		if err != nil && ctx.Err() == nil {
			// Show why: the dependency's state and last log lines.
			return fmt.Errorf("service %q: waiting for %s (%s): %w\n%s", s.Name, dep, cfg.Condition, err, x.describeAll(ctx, ids))
		}
		if err != nil {
			return fmt.Errorf("service %q: waiting for %s (%s): %w", s.Name, dep, cfg.Condition, err)
		}
	}
	return nil
}

// waitConfirmed waits for cond, then checks with the engine that the
// running containers this run (re)started really are in the health the
// events said. After a restart, a probe that was in flight before it can
// report "healthy" after the new start event while the engine has reset
// health to "starting"; the event stream alone would end the wait too
// early. When the engine disagrees, the snapshot is corrected (unless a
// newer event arrived meanwhile) and the wait goes on.
func (x *executor) waitConfirmed(ctx context.Context, ids []string, cond func([]containerState, time.Time) (bool, time.Time, error)) error {
	for {
		if err := x.mon.waitForTimed(ctx, cond); err != nil {
			return err
		}
		watched := x.baselines()
		snap, _ := x.mon.snapshot()
		seq := map[string]int{}
		for _, c := range snap {
			seq[c.ID] = c.Seq
		}
		confirmed := true
		for _, id := range ids {
			if !watched[id].Confirm {
				continue
			}
			res, err := x.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
			if err != nil {
				return fmt.Errorf("inspect %s: %w", x.containerName(id), err)
			}
			st := res.Container.State
			if st == nil || !st.Running || st.Health == nil || st.Health.Status == container.Healthy {
				continue // only a running container's health can be stale
			}
			if x.mon.correct(id, seq[id], target.State(st.Status), target.Health(st.Health.Status)) {
				confirmed = false
			}
		}
		if confirmed {
			return nil
		}
	}
}

// waitReady waits for every service to be ready, up to timeout (zero:
// no limit). On failure it says which service, its state, the last
// healthcheck output and its last log lines.
func (x *executor) waitReady(ctx context.Context, services []types.ServiceConfig, timeout time.Duration) error {
	wctx, cancel := ctx, context.CancelFunc(func() {})
	switch {
	case !x.deadline.IsZero():
		wctx, cancel = context.WithDeadlineCause(ctx, x.deadline, errWaitTimeout)
	case timeout > 0:
		wctx, cancel = context.WithTimeoutCause(ctx, timeout, errWaitTimeout)
	}
	defer cancel()
	g, gctx := errgroup.WithContext(wctx)
	for _, s := range services {
		g.Go(func() error {
			ids := x.ids(s.Name)
			r := x.d.role(s)
			err := x.waitConfirmed(gctx, ids, func(snap []containerState, now time.Time) (bool, time.Time, error) {
				return readiness(r, ids, x.baselines(), snap, now)
			})
			if err != nil {
				return &notReadyError{service: s.Name, cause: err}
			}
			x.event(target.ServiceOf(s.Name), s.Name, target.ActionReady, "", true, nil)
			return nil
		})
	}
	err := g.Wait()
	if err == nil {
		// Each service was ready at some moment; they must all be ready at
		// the same moment, and none may have crashed since it was ready
		// (a die during the wait is final: see judge).
		err = x.waitAllReady(wctx, services)
	}
	if err == nil {
		return nil
	}
	if ctx.Err() != nil && !errors.Is(context.Cause(ctx), errWaitTimeout) {
		return context.Cause(ctx) // interrupted: nothing to diagnose
	}
	return x.diagnose(ctx, services, err, timeout)
}

var errWaitTimeout = errors.New("timed out")

type notReadyError struct {
	service string
	cause   error
}

func (e *notReadyError) Error() string { return fmt.Sprintf("service %q: %v", e.service, e.cause) }

func (e *notReadyError) Unwrap() error { return e.cause }

// waitAllReady waits until every service is ready at once.
func (x *executor) waitAllReady(ctx context.Context, services []types.ServiceConfig) error {
	var all []string
	for _, s := range services {
		all = append(all, x.ids(s.Name)...)
	}
	return x.waitConfirmed(ctx, all, func(snap []containerState, now time.Time) (bool, time.Time, error) {
		watched := x.baselines()
		ready, recheck := true, time.Time{}
		for _, s := range services {
			ok, at, err := readiness(x.d.role(s), x.ids(s.Name), watched, snap, now)
			if err != nil {
				return false, time.Time{}, &notReadyError{service: s.Name, cause: err}
			}
			ready = ready && ok
			if !at.IsZero() && (recheck.IsZero() || at.Before(recheck)) {
				recheck = at
			}
		}
		return ready, recheck, nil
	})
}
