package main

import (
	"context"
	"fmt"
	"time"

	"github.com/opdeploy/opdeploy/engine"
	"github.com/opdeploy/opdeploy/target"
)

type downCmd struct {
	subjectArgs
	progressFlag
	Volumes       bool          `short:"v" help:"Also remove the project's named volumes (their data is lost)."`
	Timeout       time.Duration `help:"Stop grace period for every container (default: each service's stop_grace_period, else 10s)."`
	RemoveOrphans bool          `help:"Also remove containers of services that are no longer in the project."`
}

func (c *downCmd) Run(ctx context.Context, out *output, s *engine.Subject) error {
	start := time.Now()
	err := s.Down(ctx, target.DownOptions{
		Progress: newRenderer(out.stderr, c.Progress).tracking(out.activity),
		Volumes:  c.Volumes, Timeout: c.Timeout, RemoveOrphans: c.RemoveOrphans,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out.stderr, "%s: project %q removed in %.2fs\n", s.Name, s.Target.Project(), time.Since(start).Seconds())
	return nil
}
