package main

import (
	"context"
	"fmt"
	"time"

	"github.com/opdeploy/opdeploy/engine"
	"github.com/opdeploy/opdeploy/target"
)

type restartCmd struct {
	subjectArgs
	progressFlag
	Services []string      `arg:"" name:"service" help:"Services to restart."`
	NoWait   bool          `help:"Return once restarted, without waiting for health."`
	Timeout  time.Duration `default:"5m" help:"How long to wait for the services to be ready again (0: no limit)."`
}

func (c *restartCmd) Run(ctx context.Context, out *output, s *engine.Subject) error {
	start := time.Now()
	err := s.Restart(ctx, target.RestartOptions{
		Progress: newRenderer(out.stderr, c.Progress).tracking(out.activity),
		Services: c.Services, NoWait: c.NoWait, Timeout: c.Timeout,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out.stderr, "%s: restarted %v in %.2fs\n", s.Name, c.Services, time.Since(start).Seconds())
	return nil
}
