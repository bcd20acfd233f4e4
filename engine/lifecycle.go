package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/opdeploy/opdeploy/target"
)

// checkInterval is how often up retries failing checks. Checks probe a
// container from outside, which sends no event to wait on.
const checkInterval = 250 * time.Millisecond

// Up brings the target up and then, unless NoWait or DryRun, waits until
// the subject's checks pass too, within the same Timeout.
func (s *Subject) Up(ctx context.Context, opts target.UpOptions) error {
	start := time.Now()
	if err := s.Target.Up(ctx, opts); err != nil {
		return err
	}
	if opts.NoWait || opts.DryRun || (len(s.Checks) == 0 && len(s.FuncChecks) == 0) {
		return nil
	}
	progress := opts.Progress
	if progress == nil {
		progress = target.NoProgress
	}
	if opts.Timeout > 0 {
		remaining := opts.Timeout - time.Since(start)
		if remaining <= 0 {
			remaining = time.Millisecond
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, remaining, fmt.Errorf("not passing within --timeout %s", opts.Timeout))
		defer cancel()
	}
	reported := map[string]bool{}
	err := s.WaitChecks(ctx, checkInterval, func(failing []CheckResult) {
		for _, r := range failing {
			if !reported[r.Name] {
				reported[r.Name] = true
				progress.Event(target.ProgressEvent{Time: time.Now(), Resource: target.Check(r.Name), Service: r.Service, Action: target.ActionWaiting, Detail: r.Detail})
			}
		}
	})
	if err != nil && errors.Is(err, context.Canceled) {
		return context.Cause(ctx) // interrupted: say so, not which check was pending
	}
	if err != nil {
		return err
	}
	for _, c := range s.Checks {
		progress.Event(target.ProgressEvent{Time: time.Now(), Resource: target.Check(c.Name), Service: c.Service, Action: target.ActionPassed, Done: true})
	}
	for _, c := range s.FuncChecks {
		progress.Event(target.ProgressEvent{Time: time.Now(), Resource: target.Check(c.Name), Action: target.ActionPassed, Done: true})
	}
	return nil
}

// Down stops and removes the deployment.
func (s *Subject) Down(ctx context.Context, opts target.DownOptions) error {
	return s.Target.Down(ctx, opts)
}

// Status reports every replica the deployment declares.
func (s *Subject) Status(ctx context.Context, opts target.StatusOptions) (*target.DeploymentStatus, error) {
	return s.Target.Status(ctx, opts)
}

// Logs streams the deployment's logs.
func (s *Subject) Logs(ctx context.Context, opts target.LogsOptions) error {
	return s.Target.Logs(ctx, opts)
}

// Restart restarts services and waits until they are ready again.
func (s *Subject) Restart(ctx context.Context, opts target.RestartOptions) error {
	return s.Target.Restart(ctx, opts)
}
