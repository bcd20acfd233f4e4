package main

import (
	"context"
	"fmt"
	"time"

	"github.com/opdeploy/opdeploy/engine"
	"github.com/opdeploy/opdeploy/target"
)

type upCmd struct {
	subjectArgs
	progressFlag
	Services      []string      `arg:"" optional:"" name:"service" help:"Only these services (and their dependencies)."`
	NoWait        bool          `help:"Return once containers are started, without waiting for them to be healthy."`
	Timeout       time.Duration `default:"5m" help:"How long to wait for every service to be ready and every check to pass (0: no limit)."`
	ForceRecreate bool          `xor:"recreate" help:"Recreate containers even if their configuration and image are unchanged."`
	NoRecreate    bool          `xor:"recreate" help:"Never recreate existing containers, even if their configuration changed."`
	RemoveOrphans bool          `help:"Remove containers of services that are no longer in the project."`
	Build         bool          `help:"Build images before starting, even if they exist."`
	DryRun        bool          `help:"Print the plan and change nothing."`
}

func (c *upCmd) Run(ctx context.Context, out *output, s *engine.Subject) error {
	start := time.Now()
	opts := target.UpOptions{
		Services: c.Services, NoWait: c.NoWait, Timeout: c.Timeout, ForceRecreate: c.ForceRecreate,
		NoRecreate: c.NoRecreate, RemoveOrphans: c.RemoveOrphans, Build: c.Build, DryRun: c.DryRun,
	}
	if c.DryRun {
		opts.Progress = target.ProgressFunc(func(e target.ProgressEvent) {
			if e.Action == target.ActionPlan {
				fmt.Fprintln(out.stdout, e.Detail)
			} else if e.Action == target.ActionWarning {
				fmt.Fprintf(out.stderr, "warning: %s\n", e.Detail)
			}
		})
	} else {
		opts.Progress = newRenderer(out.stderr, c.Progress).tracking(out.activity)
	}
	if err := s.Up(ctx, opts); err != nil {
		return err
	}
	if !c.DryRun {
		state := "ready"
		if c.NoWait {
			state = "started"
		}
		fmt.Fprintf(out.stderr, "%s: project %q %s in %.2fs\n", s.Name, s.Target.Project(), state, time.Since(start).Seconds())
	}
	return nil
}

func usageErrorf(format string, args ...any) error {
	return &codeError{code: exitUsage, err: fmt.Errorf(format, args...)}
}
