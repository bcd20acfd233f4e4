package local

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"golang.org/x/sync/errgroup"

	"github.com/opdeploy/opdeploy/target"
)

// waitExecutor is an executor for waiting on containers that already exist:
// every container of services (replicas 1..scale) is adopted as current.
// With restarting, each counts as ready only after a start newer than now.
func (d *Deployment) waitExecutor(cli *client.Client, mon *monitor, progress target.Progress, services []types.ServiceConfig, restarting bool) *executor {
	x := &executor{d: d, cli: cli, mon: mon, progress: progress, current: map[string][]string{}, fresh: map[string]int{}}
	snap, _ := mon.snapshot()
	for _, s := range services {
		for _, c := range snap {
			if c.Service != s.Name || (!restarting && (c.Number < 1 || c.Number > s.GetScale())) {
				continue
			}
			x.current[s.Name] = append(x.current[s.Name], c.ID)
			if restarting {
				x.fresh[c.ID] = c.Starts
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
		depSvc := x.d.project.Services[dep]
		x.event("service "+s.Name, s.Name, "waiting", fmt.Sprintf("for %s (%s)", dep, cfg.Condition), false, nil)
		ids := x.ids(dep)
		err := x.waitConfirmed(ctx, ids, func(snap []containerState) (bool, error) {
			return conditionMet(cfg.Condition, depSvc, ids, x.freshIDs(), snap)
		})
		if err != nil && !cfg.Required && ctx.Err() == nil {
			// An optional dependency that fails is reported, not fatal.
			x.event("service "+s.Name, s.Name, "warning", fmt.Sprintf("optional dependency %s (%s) failed: %v; starting anyway", dep, cfg.Condition, err), true, nil)
			continue
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
func (x *executor) waitConfirmed(ctx context.Context, ids []string, cond func([]containerState) (bool, error)) error {
	for {
		if err := x.mon.waitFor(ctx, cond); err != nil {
			return err
		}
		fresh := x.freshIDs()
		snap, _ := x.mon.snapshot()
		seq := map[string]int{}
		for _, c := range snap {
			seq[c.ID] = c.Seq
		}
		confirmed := true
		for _, id := range ids {
			if _, ok := fresh[id]; !ok {
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

// pending reports whether a container this run (re)started has not yet
// been seen starting.
func pending(fresh map[string]int, c containerState) bool {
	baseline, ok := fresh[c.ID]
	return ok && c.Starts <= baseline
}

// conditionMet evaluates a depends_on condition over the containers ids of a
// dependency. fresh containers were started by this run and count only once
// their start event has been seen.
func conditionMet(condition string, dep types.ServiceConfig, ids []string, fresh map[string]int, snap []containerState) (bool, error) {
	byID := map[string]containerState{}
	for _, c := range snap {
		byID[c.ID] = c
	}
	if len(ids) == 0 {
		return dep.GetScale() == 0, nil
	}
	for _, id := range ids {
		c, ok := byID[id]
		if !ok || pending(fresh, c) {
			return false, nil
		}
		switch condition {
		case types.ServiceConditionCompletedSuccessfully:
			if c.State != target.StateExited {
				return false, nil
			}
			if c.ExitCode != 0 {
				return false, fmt.Errorf("%s exited with code %d", c.Name, c.ExitCode)
			}
		case types.ServiceConditionHealthy:
			if c.State == target.StateExited && !willRestart(dep, c.ExitCode) {
				return false, fmt.Errorf("%s exited with code %d before it was healthy", c.Name, c.ExitCode)
			}
			if c.State == target.StateRunning && c.Health == target.HealthNone && c.Starts > 0 {
				return false, fmt.Errorf("%s has no healthcheck, so it cannot become healthy", c.Name)
			}
			if c.State != target.StateRunning || c.Health != target.HealthHealthy {
				return false, nil
			}
		default: // service_started
			if c.State == target.StateCreated {
				return false, nil
			}
		}
	}
	return true, nil
}

// willRestart reports whether the engine restarts a container of s that
// exited with code.
func willRestart(s types.ServiceConfig, code int) bool {
	mode, _, _ := strings.Cut(s.Restart, ":")
	switch mode {
	case "always", "unless-stopped":
		return true
	case "on-failure":
		return code != 0
	}
	return false
}

// readiness says whether a service's containers are ready: running and
// healthy (or without healthcheck), or - for one-shot services - exited 0.
// It returns a final error when a container exited and will not be
// restarted.
func readiness(s types.ServiceConfig, ids []string, fresh map[string]int, snap []containerState) (bool, error) {
	byID := map[string]containerState{}
	for _, c := range snap {
		byID[c.ID] = c
	}
	if len(ids) < s.GetScale() {
		return false, nil
	}
	for _, id := range ids {
		c, ok := byID[id]
		if !ok || pending(fresh, c) {
			return false, nil
		}
		switch c.State {
		case target.StateRunning:
			if c.Health != target.HealthHealthy && c.Health != target.HealthNone {
				return false, nil
			}
		case target.StateExited:
			if willRestart(s, c.ExitCode) {
				return false, nil
			}
			if c.ExitCode != 0 {
				return false, fmt.Errorf("%s exited with code %d", c.Name, c.ExitCode)
			}
		default:
			return false, nil
		}
	}
	return true, nil
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
			err := x.waitConfirmed(gctx, ids, func(snap []containerState) (bool, error) {
				return readiness(s, ids, x.freshIDs(), snap)
			})
			if err != nil {
				return &notReadyError{service: s.Name, cause: err}
			}
			x.event("service "+s.Name, s.Name, "ready", "", true, nil)
			return nil
		})
	}
	err := g.Wait()
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return context.Cause(ctx) // interrupted: nothing to diagnose
	}
	return x.diagnose(context.WithoutCancel(ctx), services, err, timeout)
}

var errWaitTimeout = errors.New("timed out")

type notReadyError struct {
	service string
	cause   error
}

func (e *notReadyError) Error() string { return fmt.Sprintf("service %q: %v", e.service, e.cause) }

func (e *notReadyError) Unwrap() error { return e.cause }
