package local

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// diagnose explains why services are not ready: each container's state,
// last healthcheck output and last log lines, read within diagnoseBound
// even when ctx is done.
func (x *executor) diagnose(ctx context.Context, services []types.ServiceConfig, cause error, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), diagnoseBound)
	defer cancel()
	snap, _ := x.mon.snapshot()
	var b strings.Builder
	if errors.Is(cause, errWaitTimeout) {
		fmt.Fprintf(&b, "not ready after %s:", timeout)
	} else {
		fmt.Fprintf(&b, "%v:", cause)
	}
	for _, s := range services {
		ids := x.ids(s.Name)
		if ok, _, _ := readiness(x.d.role(s), ids, x.baselines(), snap, time.Now()); ok {
			continue
		}
		for _, id := range ids {
			fmt.Fprintf(&b, "\n%s", describeContainer(ctx, x.cli, id, stateOf(snap, id), 5))
		}
	}
	return &diagnosis{text: b.String(), cause: cause}
}

// diagnosis is the error that explains why services are not ready. It
// wraps the wait's own error (a timeout, a final verdict).
type diagnosis struct {
	text  string
	cause error
}

func (e *diagnosis) Error() string { return e.text }
func (e *diagnosis) Unwrap() error { return e.cause }

// describeContainer says, for a person, what state a container is in, with
// its last healthcheck output and last log lines. known is what the
// monitor knows of it: an engine can hold an inspect for long (a paused
// container whose healthcheck is stuck), so the inspect gets its own short
// bound, and the description falls back to what is known.
func describeContainer(ctx context.Context, cli dockerapi.API, id string, known containerState, logLines int) string {
	ictx, cancel := context.WithTimeout(ctx, describeBound)
	res, err := cli.ContainerInspect(ictx, id, client.ContainerInspectOptions{})
	cancel()
	if err != nil {
		name := known.Name
		if name == "" {
			name = dockerapi.ShortID(id)
		}
		return fmt.Sprintf("  service %q, container %s: %s (the engine did not describe it: %v)", known.Service, name, known.State, err)
	}
	c := res.Container
	var b strings.Builder
	name := strings.TrimPrefix(c.Name, "/")
	st := c.State
	fmt.Fprintf(&b, "  service %q, container %s: %s", c.Config.Labels[labelService], name, st.Status)
	if st.Status == container.StateExited {
		fmt.Fprintf(&b, " (exit code %d)", st.ExitCode)
	}
	if st.Health != nil {
		fmt.Fprintf(&b, ", health %s", st.Health.Status)
		if n := len(st.Health.Log); n > 0 {
			last := st.Health.Log[n-1]
			fmt.Fprintf(&b, "\n    last healthcheck (exit %d): %s", last.ExitCode, oneLine(last.Output))
		}
	}
	if c.RestartCount > 0 {
		fmt.Fprintf(&b, ", restarted %s", times(c.RestartCount))
	}
	lctx, cancel := context.WithTimeout(ctx, describeBound)
	defer cancel()
	if lines := tailLogs(lctx, cli, id, logLines); len(lines) > 0 {
		fmt.Fprintf(&b, "\n    last log lines:")
		for _, l := range lines {
			fmt.Fprintf(&b, "\n      %s", l)
		}
	}
	return b.String()
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	s = strings.ReplaceAll(s, "\n", " | ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

// describeAll describes the containers ids (see describeContainer), each
// on its own lines, within diagnoseBound even when ctx is done.
func (x *executor) describeAll(ctx context.Context, ids []string) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), diagnoseBound)
	defer cancel()
	snap, _ := x.mon.snapshot()
	var parts []string
	for _, id := range ids {
		parts = append(parts, describeContainer(ctx, x.cli, id, stateOf(snap, id), 5))
	}
	return strings.Join(parts, "\n")
}

// diagnoseBound bounds the inspects and log reads that explain a failure:
// the explanation must not outlast a stalled engine. describeBound bounds
// each container's part of it.
const (
	diagnoseBound = 10 * time.Second
	describeBound = 3 * time.Second
)

func times(n int) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}

// stateOf finds a container in a snapshot (zero when it is not there).
func stateOf(snap []containerState, id string) containerState {
	for _, c := range snap {
		if c.ID == id {
			return c
		}
	}
	return containerState{ID: id}
}
