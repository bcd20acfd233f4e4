package main

import (
	"context"

	"github.com/opdeploy/opdeploy/target"
)

type logsCmd struct {
	subjectArgs
	Services   []string `arg:"" optional:"" name:"service" help:"Only these services."`
	Follow     bool     `short:"f" help:"Keep following: across container restarts, and containers that start later."`
	Tail       int      `short:"n" default:"-1" help:"Lines to show from the end of each container's log (-1: all)."`
	Since      string   `help:"Only lines since this time (RFC 3339, Unix seconds, or a duration such as 10m)."`
	Timestamps bool     `short:"t" help:"Show each line's timestamp."`
	NoPrefix   bool     `help:"Do not prefix lines with service-n |."`
}

func (c *logsCmd) Run(ctx context.Context, out *output) error {
	s, err := c.load(ctx)
	if err != nil {
		return err
	}
	sink := &logPrinter{w: out.stdout, color: useColor(out.stdout), prefix: !c.NoPrefix, timestamps: c.Timestamps}
	err = s.Target.Logs(ctx, target.LogsOptions{
		Sink: sink, Services: c.Services, Follow: c.Follow, Tail: c.Tail, Since: c.Since, Timestamps: c.Timestamps,
	})
	if err != nil && ctx.Err() != nil {
		return nil // Ctrl-C ends -f; that is how it is meant to stop
	}
	return err
}
