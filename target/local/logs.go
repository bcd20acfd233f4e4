package local

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// Logs streams the project's container logs to opts.Sink, in order per
// container. With Follow it keeps following each container across its
// restarts and picks up containers that start later, until ctx ends.
func (d *Deployment) Logs(ctx context.Context, opts target.LogsOptions) error {
	sess, err := d.open(ctx, nil, sessionNeeds{monitor: opts.Follow})
	if err != nil {
		return err
	}
	defer sess.close()
	cli := sess.cli
	wanted := map[string]bool{}
	for _, s := range opts.Services {
		if _, err := d.service(s); err != nil {
			return err
		}
		wanted[s] = true
	}
	include := func(c containerState) bool { return len(wanted) == 0 || wanted[c.Service] }

	if !opts.Follow {
		list, err := listProjectContainers(ctx, cli, d.project.Name)
		if err != nil {
			return err
		}
		var wg sync.WaitGroup
		errs := make([]error, len(list))
		for i, c := range list {
			st := stateFromSummary(c, time.Now())
			if !include(*st) {
				continue
			}
			wg.Go(func() {
				// A log that is not followed ends: reading it is one call,
				// bounded like any other, so an engine that stops sending
				// mid-way cannot hold logs forever.
				lctx, cancel := context.WithTimeoutCause(ctx, d.engine.Bound(), &dockerapi.StalledError{Call: "logs of container " + st.Name, After: d.engine.Bound()})
				defer cancel()
				if _, err := streamLogs(lctx, cli, *st, d.tty(st.Service), opts, opts.Since, false); err != nil || lctx.Err() != nil && ctx.Err() == nil {
					if err == nil {
						err = context.Cause(lctx)
					}
					errs[i] = fmt.Errorf("logs of %s: %w", st.Name, err)
				}
			})
		}
		wg.Wait()
		return errors.Join(errs...)
	}

	mon := sess.mon
	following := map[string]bool{}
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		snap, changed := mon.snapshot()
		for _, c := range snap {
			if !include(c) || following[c.ID] {
				continue
			}
			following[c.ID] = true
			wg.Go(func() { followContainer(ctx, cli, mon, c, d.tty(c.Service), opts) })
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
	}
}

// followContainer streams one container's logs and, each time the stream
// ends (the container stopped), waits for the container to start again and
// resumes after the last line seen. The start count is read before a stream
// opens, so a restart that happens while the stream closes is not missed.
func followContainer(ctx context.Context, cli dockerapi.API, mon *monitor, c containerState, tty bool, opts target.LogsOptions) {
	since := opts.Since
	for ctx.Err() == nil {
		startsAtOpen := startsOf(mon, c.ID)
		if startsAtOpen < 0 {
			return // removed
		}
		last, err := streamLogs(ctx, cli, c, tty, opts, since, true)
		if err != nil && isNotFound(err) {
			return
		}
		if !last.IsZero() {
			since = unixSince(last.Add(time.Nanosecond))
		}
		opts.Tail = -1 // after a restart, every new line
		err = mon.waitFor(ctx, func(snap []containerState) (bool, error) {
			for _, s := range snap {
				if s.ID == c.ID {
					return s.Starts > startsAtOpen, nil
				}
			}
			return false, errGone
		})
		if err != nil {
			return
		}
	}
}

func startsOf(mon *monitor, id string) int {
	snap, _ := mon.snapshot()
	for _, s := range snap {
		if s.ID == id {
			return s.Starts
		}
	}
	return -1
}

// unixSince formats t as the engine's since parameter: seconds.nanoseconds.
func unixSince(t time.Time) string { return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond()) }

var errGone = errors.New("container removed")

// streamLogs copies one container's logs to the sink, line by line, and
// returns the time of the last line.
func streamLogs(ctx context.Context, cli dockerapi.API, c containerState, tty bool, opts target.LogsOptions, since string, follow bool) (time.Time, error) {
	tail := "all"
	if opts.Tail >= 0 {
		tail = strconv.Itoa(opts.Tail)
	}
	rc, err := cli.ContainerLogs(ctx, c.ID, client.ContainerLogsOptions{
		ShowStdout: true, ShowStderr: true, Follow: follow, Tail: tail, Since: since, Timestamps: true,
	})
	if err != nil {
		return time.Time{}, err
	}
	defer rc.Close()
	var mu sync.Mutex
	var last time.Time
	emit := func(stream string) io.WriteCloser {
		pr, pw := io.Pipe()
		done := make(chan struct{})
		go func() {
			defer close(done)
			sc := bufio.NewScanner(pr)
			sc.Buffer(make([]byte, 64*1024), 1024*1024)
			for sc.Scan() {
				ts, text := splitTimestamp(sc.Text())
				mu.Lock()
				if ts.After(last) {
					last = ts
				}
				mu.Unlock()
				opts.Sink.Line(target.LogLine{Service: c.Service, Container: c.Name, Number: c.Number, Stream: stream, Time: ts, Text: text})
			}
			_, _ = io.Copy(io.Discard, pr)
		}()
		return &waitCloser{PipeWriter: pw, done: done}
	}
	stdout, stderr := emit("stdout"), emit("stderr")
	if tty {
		_, err = io.Copy(stdout, rc)
	} else {
		_, err = stdcopy.StdCopy(stdout, stderr, rc)
	}
	stdout.Close()
	stderr.Close()
	if ctx.Err() != nil {
		err = nil
	}
	return last, err
}

type waitCloser struct {
	*io.PipeWriter
	done chan struct{}
}

func (w *waitCloser) Close() error {
	err := w.PipeWriter.Close()
	<-w.done
	return err
}

func splitTimestamp(line string) (time.Time, string) {
	tsText, rest, ok := strings.Cut(line, " ")
	if !ok {
		return time.Time{}, line
	}
	ts, err := time.Parse(time.RFC3339Nano, tsText)
	if err != nil {
		return time.Time{}, line
	}
	return ts, rest
}

// tailLogs returns a container's last n log lines (both streams, in order).
func tailLogs(ctx context.Context, cli dockerapi.API, id string, n int) []string {
	var lines []string
	var mu sync.Mutex
	sink := sinkFunc(func(l target.LogLine) {
		mu.Lock()
		lines = append(lines, l.Text)
		mu.Unlock()
	})
	_, _ = streamLogs(ctx, cli, containerState{ID: id}, false, target.LogsOptions{Sink: sink, Tail: n}, "", false)
	return lines
}

// tty reports whether a service's containers have a TTY; their logs are
// one raw stream instead of multiplexed stdout and stderr.
func (d *Deployment) tty(service string) bool {
	s, ok := d.project.Services[service]
	return ok && s.Tty
}

type sinkFunc func(target.LogLine)

func (f sinkFunc) Line(l target.LogLine) { f(l) }
