package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/opdeploy/opdeploy/engine"
	"github.com/opdeploy/opdeploy/starlark"
)

type runCmd struct {
	subjectArgs
	Sequence string        `arg:"" optional:"" help:"The sequence to run; without it, the subject's sequences are listed."`
	Timeout  time.Duration `default:"10m" help:"Stop the sequence if it has not finished after this long (0: no limit)."`
	Progress string        `enum:"auto,plain,json" default:"auto" help:"Step output: plain lines or json (one object per line)."`
	Repeat   int           `default:"1" placeholder:"N" help:"Run the sequence N times (the deployment kept) and print a summary: passes, failures, durations."`
}

func (c *runCmd) Run(ctx context.Context, out *output, s *engine.Subject) error {
	if c.Sequence == "" {
		tw := tabwriter.NewWriter(out.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintf(tw, "sequences of subject %s:\n", s.Name)
		for _, seq := range s.Sequences {
			fmt.Fprintf(tw, "  %s\t%s\n", seq.Name, firstLine(seq.Doc))
		}
		return tw.Flush()
	}
	if c.Repeat < 1 {
		return usageErrorf("--repeat must be at least 1, got %d", c.Repeat)
	}
	steps := newStepPrinter(out.stderr, c.Progress)
	steps.activity = out.activity
	var runs []runResult
	for i := 1; i <= c.Repeat; i++ {
		if c.Progress != "json" {
			prefix := ""
			if c.Repeat > 1 {
				prefix = fmt.Sprintf("[%d/%d] ", i, c.Repeat)
			}
			fmt.Fprintf(out.stderr, "%srun %s on subject %s (project %s)\n", prefix, c.Sequence, s.Name, s.Target.Project())
		}
		start := time.Now()
		err := s.Run(ctx, c.Sequence, engine.RunOptions{Timeout: c.Timeout, Steps: steps.event})
		res := runResult{duration: time.Since(start)}
		if err != nil {
			var se *engine.SequenceError
			if !errors.As(err, &se) || ctx.Err() != nil {
				return err // an interruption is reported in one line by run()
			}
			reportSequenceError(out.stderr, se)
			res.failure = firstLine(relativize(se.Err.Error()))
		} else if c.Progress != "json" {
			fmt.Fprintf(out.stderr, "%s: sequence %s passed in %.2fs\n", s.Name, c.Sequence, res.duration.Seconds())
		}
		runs = append(runs, res)
	}
	if c.Repeat > 1 {
		printRepeatSummary(out.stderr, c.Sequence, c.Progress == "json", runs)
	}
	for _, r := range runs {
		if r.failure != "" {
			return &codeError{code: exitError}
		}
	}
	return nil
}

// reportSequenceError prints sequenceErrorReport. It quotes container
// output (the last log lines, exec output in messages), so control
// characters are made visible, wherever w goes: the report is for a person.
func reportSequenceError(w io.Writer, se *engine.SequenceError) {
	io.WriteString(w, safeText(sequenceErrorReport(se)))
}

// sequenceErrorReport says where a sequence failed: the message at its
// position, the Starlark backtrace, the step in flight, and the last log
// lines of the service that step acted on.
func sequenceErrorReport(se *engine.SequenceError) string {
	var w strings.Builder
	fmt.Fprintf(&w, "opdeploy: sequence %q failed", se.Sequence)
	if se.Step != "" {
		fmt.Fprintf(&w, " in step %s %s (%s)", se.Step, se.StepArgs, relativize(se.StepPos.String()))
	}
	fmt.Fprintln(&w)
	var serr *starlark.Error
	if errors.As(se.Err, &serr) {
		fmt.Fprintln(&w, relativize(serr.Error()))
		if bt := serr.Backtrace(); bt != "" {
			fmt.Fprint(&w, relativize(bt))
		}
	} else {
		fmt.Fprintln(&w, relativize(se.Err.Error()))
	}
	if len(se.LogTail) > 0 {
		fmt.Fprintf(&w, "last log lines of %s:\n", se.Service)
		for _, l := range se.LogTail {
			fmt.Fprintf(&w, "  %s\n", l)
		}
	}
	return w.String()
}

// stepPrinter renders sequence steps: a line when a step starts and one
// when it ends, with the time since the run began and the step's duration.
// Messages may quote exec output, so control characters are made visible
// (escaped, in JSON).
type stepPrinter struct {
	mu       sync.Mutex
	w        io.Writer
	json     bool
	start    time.Time
	activity *activity // the step in flight, for an interruption's report
}

func newStepPrinter(w io.Writer, mode string) *stepPrinter {
	return &stepPrinter{w: w, json: mode == "json", start: time.Now()}
}

// stepJSON is the --progress json schema of run (docs/cli.md).
type stepJSON struct {
	Time       string `json:"time"`
	Event      string `json:"event"` // start, end, log
	Step       string `json:"step,omitempty"`
	Args       string `json:"args,omitempty"`
	Pos        string `json:"pos,omitempty"`
	DurationMS *int64 `json:"duration_ms,omitempty"`
	Error      string `json:"error,omitempty"`
	Message    string `json:"message,omitempty"`
}

func (p *stepPrinter) event(e engine.StepEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pos := ""
	if e.Pos.File != "" {
		pos = relativize(e.Pos.String())
	}
	if p.activity != nil {
		switch e.Kind {
		case engine.StepStart:
			p.activity.begin("step", fmt.Sprintf("in step %s %s (%s)", e.Step, e.Args, pos))
		case engine.StepEnd:
			if e.Err == nil { // a failed step stays: it is what was in flight
				p.activity.end("step")
			}
		}
	}
	if p.json {
		j := stepJSON{Time: e.Time.UTC().Format(time.RFC3339Nano), Event: string(e.Kind), Step: e.Step, Args: e.Args, Pos: pos, Message: e.Message}
		if e.Kind == engine.StepEnd {
			ms := e.Duration.Milliseconds()
			j.DurationMS = &ms
		}
		if e.Err != nil {
			j.Error = relativize(e.Err.Error())
		}
		b, _ := json.Marshal(j)
		fmt.Fprintf(p.w, "%s\n", safeJSON(b))
		return
	}
	at := e.Time.Sub(p.start).Seconds()
	var line string
	switch e.Kind {
	case engine.StepStart:
		line = fmt.Sprintf("%7.2fs ▶ %s %s  (%s)\n", at, e.Step, e.Args, pos)
	case engine.StepEnd:
		mark, tail := "✔", ""
		if e.Err != nil {
			mark, tail = "✘", ": "+relativize(e.Err.Error())
		}
		line = fmt.Sprintf("%7.2fs %s %s %s  %.2fs%s\n", at, mark, e.Step, e.Args, e.Duration.Seconds(), tail)
	case engine.StepLog:
		line = fmt.Sprintf("%7.2fs   %s\n", at, e.Message)
	}
	io.WriteString(p.w, safeText(line))
}
