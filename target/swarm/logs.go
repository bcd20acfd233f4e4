package swarm

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// Logs streams the services' logs through the manager (service logs),
// every task's lines, labelled with the task's slot; -f follows across
// task restarts, as the swarm's service logs do.
func (d *Deployment) Logs(ctx context.Context, opts target.LogsOptions) error {
	services, api, obs, err := d.look(ctx, opts.Services)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(services))
	for i, name := range services {
		svc, ok := obs.services[name]
		if !ok {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = d.serviceLogs(ctx, api, name, svc, opts)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil && ctx.Err() == nil {
			return err
		}
	}
	return nil
}

func (d *Deployment) serviceLogs(ctx context.Context, api dockerapi.API, name string, svc swarm.Service, opts target.LogsOptions) error {
	tail := "all"
	if opts.Tail >= 0 {
		tail = strconv.Itoa(opts.Tail)
	}
	rc, err := api.ServiceLogs(ctx, svc.ID, client.ServiceLogsOptions{
		ShowStdout: true, ShowStderr: true, Follow: opts.Follow, Tail: tail, Since: opts.Since, Timestamps: true, Details: true,
	})
	if err != nil {
		return fmt.Errorf("logs of service %q: %w", name, err)
	}
	defer rc.Close()
	slots := &taskSlots{api: api, service: svc.ID}
	emit := func(stream string) *lineWriter {
		return &lineWriter{line: func(text string) {
			ts, rest := splitField(text)
			when, _ := time.Parse(time.RFC3339Nano, ts)
			details, msg := splitField(rest)
			task := detail(details, "com.docker.swarm.task.id")
			opts.Sink.Line(target.LogLine{Service: name, Container: svc.Spec.Name, Number: slots.slot(ctx, task), Stream: stream, Time: when, Text: msg})
		}}
	}
	stdout, stderr := emit("stdout"), emit("stderr")
	if svc.Spec.TaskTemplate.ContainerSpec != nil && svc.Spec.TaskTemplate.ContainerSpec.TTY {
		_, err = io.Copy(stdout, rc)
	} else {
		_, err = stdcopy.StdCopy(stdout, stderr, rc)
	}
	stdout.flush()
	stderr.flush()
	return err
}

// taskSlots maps task IDs to slots, listing the service's tasks again when
// a new task appears (a restart while following).
type taskSlots struct {
	api     dockerapi.API
	service string
	known   map[string]int
}

func (t *taskSlots) slot(ctx context.Context, id string) int {
	if n, ok := t.known[id]; ok || id == "" {
		return n
	}
	f := client.Filters{}
	f.Add("service", t.service)
	if res, err := t.api.TaskList(ctx, client.TaskListOptions{Filters: f}); err == nil {
		t.known = map[string]int{}
		for _, task := range res.Items {
			t.known[task.ID] = task.Slot
		}
	}
	return t.known[id]
}

func splitField(s string) (string, string) {
	first, rest, _ := strings.Cut(s, " ")
	return first, rest
}

// detail finds key=value in a service log line's details.
func detail(details, key string) string {
	for _, kv := range strings.Split(details, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v
		}
	}
	return ""
}

// lineWriter calls line for each complete line written to it.
type lineWriter struct {
	buf  bytes.Buffer
	line func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf.Write(p)
	for {
		i := bytes.IndexByte(w.buf.Bytes(), '\n')
		if i < 0 {
			return len(p), nil
		}
		text := strings.TrimSuffix(string(w.buf.Next(i + 1)[:i]), "\r")
		w.line(text)
	}
}

func (w *lineWriter) flush() {
	if w.buf.Len() > 0 {
		w.line(w.buf.String())
		w.buf.Reset()
	}
}

// LogTail returns the last n log lines of the service's first task.
func (d *Deployment) LogTail(ctx context.Context, service string, n int) []string {
	api, err := d.managerAPI(ctx)
	if err != nil {
		return nil
	}
	obs, err := d.observe(ctx, api)
	if err != nil {
		return nil
	}
	t, ok := firstTask(obs, service, false)
	if !ok {
		return nil
	}
	return d.taskLogTail(ctx, obs, t, n)
}

// taskLogTail reads a task's last log lines from its node's engine.
func (d *Deployment) taskLogTail(ctx context.Context, obs observed, t swarm.Task, n int) []string {
	if t.Status.ContainerStatus == nil || t.Status.ContainerStatus.ContainerID == "" {
		return nil
	}
	node, ok := obs.nodes[t.NodeID]
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	api, err := d.nodeAPI(ctx, node)
	if err != nil {
		return nil
	}
	rc, err := api.ContainerLogs(ctx, t.Status.ContainerStatus.ContainerID, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Tail: strconv.Itoa(n)})
	if err != nil {
		return nil
	}
	defer rc.Close()
	var lines []string
	w := &lineWriter{line: func(s string) { lines = append(lines, s) }}
	if t.Spec.ContainerSpec != nil && t.Spec.ContainerSpec.TTY {
		_, _ = io.Copy(w, rc)
	} else {
		_, _ = stdcopy.StdCopy(w, w, rc)
	}
	w.flush()
	return lines
}
