package main

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"time"

	"github.com/opdeploy/opdeploy/engine"
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
	Raw        bool     `help:"Print lines exactly as the containers wrote them, even to a terminal (by default a terminal sees control characters made visible, ESC as ^[)."`
}

func (c *logsCmd) Run(ctx context.Context, out *output, s *engine.Subject) error {
	since, err := parseSince(c.Since, time.Now())
	if err != nil {
		return usageErrorf("--since %q: %v", c.Since, err)
	}
	sink := newLogPrinter(out.stdout, c.Raw, !c.NoPrefix, c.Timestamps)
	err = s.Logs(ctx, target.LogsOptions{
		Sink: sink, Services: c.Services, Follow: c.Follow, Tail: c.Tail, Since: since, Timestamps: c.Timestamps,
	})
	if err != nil && ctx.Err() != nil {
		return nil // Ctrl-C ends -f; that is how it is meant to stop
	}
	return err
}

// newLogPrinter prints log lines to w. On a terminal, control characters
// in them are made visible (safeText) unless raw: a container must not be
// able to drive the user's terminal. To a pipe or a file the bytes pass
// as the containers wrote them, as docker logs does, so that tools reading
// them get the real thing.
func newLogPrinter(w io.Writer, raw, prefix, timestamps bool) *logPrinter {
	return &logPrinter{w: w, color: useColor(w), visible: !raw && isTerminal(w), prefix: prefix, timestamps: timestamps}
}

var unixSecondsRE = regexp.MustCompile(`^\d+(\.\d{1,9})?$`)

// parseSince turns --since into the Unix timestamp the engine takes: a
// duration counts back from now, RFC 3339 times are converted, and Unix
// seconds pass through.
func parseSince(v string, now time.Time) (string, error) {
	if v == "" || unixSecondsRE.MatchString(v) {
		return v, nil
	}
	if d, err := time.ParseDuration(v); err == nil {
		if d < 0 {
			return "", fmt.Errorf("a duration counts back from now and must not be negative")
		}
		t := now.Add(-d)
		return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond()), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond()), nil
		}
	}
	return "", fmt.Errorf("want a duration (10m), an RFC 3339 time, or Unix seconds")
}

// endsOnInterrupt: with -f, Ctrl-C is how logs is meant to stop (exit 0).
func (c *logsCmd) endsOnInterrupt() bool { return c.Follow }
