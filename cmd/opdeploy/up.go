package main

import (
	"context"
	"fmt"
	"time"

	"github.com/opdeploy/opdeploy/target"
)

type upCmd struct {
	subjectArgs
	progressFlag
	Services      []string      `arg:"" optional:"" name:"service" help:"Only these services (and their dependencies)."`
	NoWait        bool          `help:"Return once containers are started, without waiting for them to be healthy."`
	Timeout       time.Duration `default:"5m" help:"How long to wait for every service to be ready and every check to pass (0: no limit)."`
	ForceRecreate bool          `help:"Recreate containers even if their configuration and image are unchanged."`
	NoRecreate    bool          `help:"Never recreate existing containers, even if their configuration changed."`
	RemoveOrphans bool          `help:"Remove containers of services that are no longer in the project."`
	Build         bool          `help:"Build images before starting, even if they exist."`
	DryRun        bool          `help:"Print the plan and change nothing."`
}

func (c *upCmd) Run(ctx context.Context, out *output) error {
	if c.ForceRecreate && c.NoRecreate {
		return usageErrorf("--force-recreate and --no-recreate contradict each other")
	}
	s, err := c.load(ctx)
	if err != nil {
		return err
	}
	start := time.Now()
	opts := target.UpOptions{
		Services: c.Services, NoWait: c.NoWait, Timeout: c.Timeout, ForceRecreate: c.ForceRecreate,
		NoRecreate: c.NoRecreate, RemoveOrphans: c.RemoveOrphans, Build: c.Build, DryRun: c.DryRun,
	}
	if c.DryRun {
		opts.Progress = target.ProgressFunc(func(e target.ProgressEvent) {
			if e.Action == "plan" {
				fmt.Fprintln(out.stdout, e.Detail)
			} else if e.Action == "warning" {
				fmt.Fprintf(out.stderr, "warning: %s\n", e.Detail)
			}
		})
	} else {
		opts.Progress = newRenderer(out.stderr, c.Progress)
	}
	if err := s.Up(ctx, opts); err != nil {
		return interrupted(ctx, err, "up")
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

// interrupted turns a cancellation by Ctrl-C into a message that says what
// state things are in and what to do.
func interrupted(ctx context.Context, err error, verb string) error {
	if ctx.Err() == nil {
		return err
	}
	return &codeError{code: 130, err: fmt.Errorf("%s interrupted: nothing half-made is left behind that `up` will not converge or `down` will not remove", verb)}
}

func usageErrorf(format string, args ...any) error {
	return &codeError{code: exitUsage, err: fmt.Errorf(format, args...)}
}
