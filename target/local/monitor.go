package local

import (
	"context"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/client"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// containerState is what the monitor knows of one container of the project.
type containerState struct {
	ID       string
	Name     string
	Service  string
	Number   int
	State    target.State
	Health   target.Health
	ExitCode int
	LastExit int // the code of the last exit, kept across a restart
	Starts   int // start events seen since the monitor began
	Dies     int // die events seen since the monitor began
	// DiedAfterStart is Starts at the last die: a die after a start this
	// run made shows as DiedAfterStart above that start's baseline.
	DiedAfterStart int
	Seq            int       // bumped by every change, so a correction can tell it is stale
	EventAt        time.Time // when the engine emitted the last event applied
	SeenAt         time.Time // when the monitor applied it
	// StartedAt is when the container last started: from its start event,
	// else estimated from the list's "Up 3 seconds" (never later than the
	// truth, to the second).
	StartedAt time.Time
	Labels    map[string]string
	// Networks are the engine names of the networks it is attached to, as
	// the last listing said (network events are not followed).
	Networks []string
	// HealthGuessed: Health is "starting" until an inspect says whether
	// the image has a healthcheck (monitor_health.go).
	HealthGuessed bool
	// ExitGuessed: after a die event, State is "exited" until an inspect
	// says whether the engine restarts the container (it is then
	// "restarting"): the event does not say (monitor_health.go).
	ExitGuessed bool
}

// monitor keeps the state of a project's containers current from the
// engine's event stream: no polling. It subscribes before the caller acts,
// so no transition is missed, and re-lists the project after a reconnect,
// so none is lost while the stream was down. Waiters block on changed().
type monitor struct {
	ctx     context.Context // the monitor's life
	cli     dockerapi.API
	project string
	// declared says whether a service's containers have a healthcheck, when
	// the compose file decides it (declared or disabled), so that a start
	// event sets health without an inspect; known is false when the image
	// decides (monitor_health.go).
	declared func(service string) (healthcheck, known bool)

	mu         sync.Mutex
	hc         map[string]bool // container ID -> has a healthcheck (from inspect)
	containers map[string]*containerState
	changedCh  chan struct{}
}

// startMonitor subscribes to the project's container events and takes an
// initial snapshot. It runs until ctx is cancelled.
func startMonitor(ctx context.Context, cli dockerapi.API, project string, declared func(string) (bool, bool)) (*monitor, error) {
	m := &monitor{
		ctx: ctx, cli: cli, project: project, declared: declared,
		containers: map[string]*containerState{}, changedCh: make(chan struct{}), hc: map[string]bool{},
	}
	stream := m.subscribe(ctx)
	if err := m.resync(ctx); err != nil {
		return nil, err
	}
	go m.run(ctx, stream)
	return m, nil
}

func (m *monitor) subscribe(ctx context.Context) client.EventsResult {
	f := client.Filters{}
	f.Add("type", "container")
	f.Add("label", projectFilterLabel(m.project))
	return m.cli.Events(ctx, client.EventsListOptions{Filters: f})
}

func (m *monitor) run(ctx context.Context, stream client.EventsResult) {
	backoff := 50 * time.Millisecond
	for {
		select {
		case <-ctx.Done():
			return
		case msg := <-stream.Messages:
			m.apply(msg)
			backoff = 50 * time.Millisecond
		case <-stream.Err:
			if ctx.Err() != nil {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 2*time.Second)
			// Subscribe again first, then re-list, so that whatever happened
			// while the stream was down is in the snapshot.
			stream = m.subscribe(ctx)
			for ctx.Err() == nil {
				if err := m.resync(ctx); err == nil {
					break
				}
				select {
				case <-ctx.Done():
				case <-time.After(backoff):
				}
			}
			m.broadcast()
		}
	}
}

// resync replaces the snapshot with a fresh listing of the project.
func (m *monitor) resync(ctx context.Context) error {
	list, err := listProjectContainers(ctx, m.cli, m.project)
	if err != nil {
		return err
	}
	m.mu.Lock()
	fresh := map[string]*containerState{}
	for _, c := range list {
		st := stateFromSummary(c, time.Now())
		if old, ok := m.containers[st.ID]; ok {
			st.Starts, st.Seq = old.Starts, old.Seq+1
			st.Dies, st.DiedAfterStart, st.LastExit = old.Dies, old.DiedAfterStart, old.LastExit
			if !old.StartedAt.IsZero() && old.State == st.State {
				st.StartedAt = old.StartedAt // the event's time is exact
			}
			// A start whose event was lost while the stream was down.
			if old.State != target.StateRunning && st.State == target.StateRunning {
				st.Starts++
			}
		}
		fresh[st.ID] = st
	}
	m.containers = fresh
	m.mu.Unlock()
	m.broadcast()
	return nil
}

func (m *monitor) apply(msg events.Message) {
	id := msg.Actor.ID
	attrs := msg.Actor.Attributes
	action := string(msg.Action)
	m.mu.Lock()
	st, ok := m.containers[id]
	if !ok {
		if action == "destroy" {
			m.mu.Unlock()
			return
		}
		st = &containerState{ID: id, State: target.StateCreated, Health: target.HealthNone, Labels: attrs}
		st.Name = attrs["name"]
		st.Service = attrs[labelService]
		st.Number, _ = strconv.Atoi(attrs[labelNumber])
		m.containers[id] = st
	}
	st.Seq++
	st.EventAt, st.SeenAt = time.Unix(0, msg.TimeNano), time.Now()
	switch {
	case action == "start":
		st.State, st.ExitGuessed = target.StateRunning, false
		st.Starts++
		st.StartedAt = time.Unix(0, msg.TimeNano)
		st.ExitCode = 0
		m.startHealth(st)
	case action == "die":
		st.State = target.StateExited
		st.ExitCode, _ = strconv.Atoi(attrs["exitCode"])
		st.LastExit = st.ExitCode
		st.Dies++
		st.DiedAfterStart = st.Starts
		st.ExitGuessed = true
		go m.learnExit(id, st.Seq)
	case action == "pause":
		st.State = target.StatePaused
	case action == "unpause":
		st.State = target.StateRunning
	case action == "destroy":
		delete(m.containers, id)
	case action == "rename":
		st.Name = attrs["name"]
	case strings.HasPrefix(action, "health_status"):
		st.HealthGuessed = false // the engine runs a healthcheck: no guess
		_, status, _ := strings.Cut(action, ": ")
		switch status {
		case "healthy":
			st.Health = target.HealthHealthy
		case "unhealthy":
			st.Health = target.HealthUnhealthy
		case "starting":
			st.Health = target.HealthStarting
		}
	default:
		m.mu.Unlock()
		return
	}
	m.mu.Unlock()
	m.broadcast()
}

func (m *monitor) broadcast() {
	m.mu.Lock()
	close(m.changedCh)
	m.changedCh = make(chan struct{})
	m.mu.Unlock()
}

// snapshot returns a copy of every known container and a channel closed at
// the next change.
func (m *monitor) snapshot() ([]containerState, <-chan struct{}) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]containerState, 0, len(m.containers))
	for _, c := range m.containers {
		out = append(out, *c)
	}
	return out, m.changedCh
}

// waitFor blocks until cond, evaluated on each snapshot, reports done, or
// returns cond's error when it reports a final failure, or ctx's.
func (m *monitor) waitFor(ctx context.Context, cond func([]containerState) (done bool, err error)) error {
	return m.waitForTimed(ctx, func(snap []containerState, _ time.Time) (bool, time.Time, error) {
		done, err := cond(snap)
		return done, time.Time{}, err
	})
}

// waitForTimed is waitFor for conditions that can change with time alone
// (a container becomes ready once it has run for the settle window): cond
// also receives the time and may name when to evaluate it again if no event
// comes first.
func (m *monitor) waitForTimed(ctx context.Context, cond func(snap []containerState, now time.Time) (done bool, recheckAt time.Time, err error)) error {
	for {
		snap, changed := m.snapshot()
		done, recheckAt, err := cond(snap, time.Now())
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		var recheck <-chan time.Time // nil: wait for an event only
		if !recheckAt.IsZero() {
			recheck = time.After(time.Until(recheckAt)) // collected once unreachable (Go 1.23+)
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-changed:
		case <-recheck:
		}
	}
}

// listProjectContainers lists every container (running or not) that carries
// the project label.
func listProjectContainers(ctx context.Context, cli dockerapi.API, project string) ([]container.Summary, error) {
	f := client.Filters{}
	f.Add("label", projectFilterLabel(project))
	res, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, err
	}
	var out []container.Summary
	for _, c := range res.Items {
		if c.Labels[labelOneoff] == "True" {
			continue // `compose run` containers are not part of the deployment
		}
		out = append(out, c)
	}
	return out, nil
}

var (
	exitedRE = regexp.MustCompile(`^(?:Exited|Restarting) \((-?\d+)\)`)
	upForRE  = regexp.MustCompile(`^Up (Less than a second|(\d+) seconds?)`)
)

// stateFromSummary reads a container's state from a list entry taken at
// now. Engines before API 1.52 do not report health in the list, only in
// the Status text ("Up 3 seconds (healthy)"), which has kept that form for
// years; how long it has been up comes from the same text.
func stateFromSummary(c container.Summary, now time.Time) *containerState {
	st := &containerState{
		ID:      c.ID,
		Service: c.Labels[labelService],
		State:   target.State(c.State),
		Health:  target.HealthNone,
		Labels:  c.Labels,
	}
	st.Number, _ = strconv.Atoi(c.Labels[labelNumber])
	if len(c.Names) > 0 {
		st.Name = strings.TrimPrefix(c.Names[0], "/")
	}
	if c.NetworkSettings != nil {
		for name := range c.NetworkSettings.Networks {
			st.Networks = append(st.Networks, name)
		}
		sort.Strings(st.Networks)
	}
	switch {
	case c.Health != nil && c.Health.Status != "" && c.Health.Status != container.NoHealthcheck:
		st.Health = target.Health(c.Health.Status)
	case strings.Contains(c.Status, "(healthy)"):
		st.Health = target.HealthHealthy
	case strings.Contains(c.Status, "(unhealthy)"):
		st.Health = target.HealthUnhealthy
	case strings.Contains(c.Status, "(health: starting)"):
		st.Health = target.HealthStarting
	}
	if m := exitedRE.FindStringSubmatch(c.Status); m != nil {
		st.ExitCode, _ = strconv.Atoi(m[1])
		st.LastExit = st.ExitCode
	}
	if st.State == target.StateRunning || st.State == target.StatePaused {
		st.StartedAt = now.Add(-upFor(c.Status))
	}
	return st
}

// upFor reads how long a container has been up from its status text, to
// the second, never more than the truth. The engine writes "Up Less than a
// second", "Up 1 second", "Up 42 seconds", then minutes and longer, which
// are all well past any settle window: a minute is returned for those.
func upFor(status string) time.Duration {
	m := upForRE.FindStringSubmatch(status)
	switch {
	case !strings.HasPrefix(status, "Up "):
		return 0
	case m == nil:
		return time.Minute
	case m[2] == "":
		return 0 // less than a second
	}
	n, _ := strconv.Atoi(m[2])
	return time.Duration(n) * time.Second
}

// correct overwrites a container's state and health with what an inspect
// returned, when events told a different story (see waitConfirmed), unless
// an event changed the container since seq was read. It reports whether it
// applied the correction.
func (m *monitor) correct(id string, seq int, state target.State, health target.Health) bool {
	m.mu.Lock()
	st, ok := m.containers[id]
	applied := ok && st.Seq == seq
	if applied {
		st.State, st.Health = state, health
		st.Seq++
	}
	m.mu.Unlock()
	if applied {
		m.broadcast()
	}
	return applied
}
