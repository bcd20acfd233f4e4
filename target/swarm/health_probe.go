package swarm

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/swarm"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/compose"
	"github.com/opdeploy/opdeploy/target/local"
)

// Compose's healthcheck defaults, as the engine applies them.
const (
	defaultHealthInterval = 30 * time.Second
	defaultHealthTimeout  = 30 * time.Second
	defaultHealthRetries  = 3
	// untilFirstPass is how often a task whose healthcheck has not passed
	// yet is probed: a waiting verb learns it passed within this, not a
	// whole interval later.
	untilFirstPass = time.Second
)

// probeState is what opdeploy's runs of one task's healthcheck found.
type probeState struct {
	at     time.Time // the last run
	passed bool      // it passed at least once
	fails  int       // consecutive failures since
	output string    // the last failure's output, for the reason
}

// probes holds the results of healthchecks opdeploy runs, by task ID, for
// as long as the process runs.
type probes struct {
	mu sync.Mutex
	by map[string]probeState
}

func (p *probes) get(id string) (probeState, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	s, ok := p.by[id]
	return s, ok
}

func (p *probes) record(id string, passed bool, output string, at time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.by == nil {
		p.by = map[string]probeState{}
	}
	s := p.by[id]
	s.at = at
	if passed {
		s.passed, s.fails, s.output = true, 0, ""
	} else {
		s.fails++
		s.output = output
	}
	p.by[id] = s
}

// probeHealth runs, in parallel, the healthcheck of every running task
// whose healthcheck opdeploy runs (health.go) and whose last run is older
// than its interval (untilFirstPass before the first pass), through the
// task's node engine. A run is bounded by the healthcheck's timeout.
func (d *Deployment) probeHealth(ctx context.Context, obs observed) {
	now := time.Now()
	var wg sync.WaitGroup
	for name, tasks := range obs.tasks {
		s := d.project.Services[name]
		if healthRunner(s) != healthByOpdeploy {
			continue
		}
		interval, timeout := compose.DurationOf(s.HealthCheck.Interval), compose.DurationOf(s.HealthCheck.Timeout)
		if interval <= 0 {
			interval = defaultHealthInterval
		}
		if timeout <= 0 {
			timeout = defaultHealthTimeout
		}
		for _, t := range tasks {
			if t.DesiredState != swarm.TaskStateRunning || t.Status.State != swarm.TaskStateRunning || t.Status.ContainerStatus == nil {
				continue
			}
			last, seen := d.health.get(t.ID)
			every := interval
			if !last.passed {
				every = min(interval, untilFirstPass)
			}
			if seen && now.Sub(last.at) < every {
				continue
			}
			node, ok := obs.nodes[t.NodeID]
			if !ok {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				passed, output := d.runHealthcheck(ctx, node, t, s.HealthCheck.Test, timeout)
				if ctx.Err() == nil {
					d.health.record(t.ID, passed, output, now)
				}
			}()
		}
	}
	wg.Wait()
}

// runHealthcheck runs a healthcheck's test in a task's container: CMD runs
// its arguments, CMD-SHELL its string with /bin/sh -c, as the engine does.
func (d *Deployment) runHealthcheck(ctx context.Context, node swarm.Node, t swarm.Task, test types.HealthCheckTest, timeout time.Duration) (bool, string) {
	var cmd []string
	switch test[0] {
	case "CMD":
		cmd = test[1:]
	case "CMD-SHELL":
		cmd = []string{"/bin/sh", "-c", strings.Join(test[1:], " ")}
	default:
		cmd = []string{"/bin/sh", "-c", strings.Join(test, " ")}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	api, err := d.nodeAPI(ctx, node)
	if err != nil {
		return false, err.Error()
	}
	res, err := local.ExecIn(ctx, api, t.Status.ContainerStatus.ContainerID, t.ID, cmd)
	if err != nil {
		return false, err.Error()
	}
	if res.ExitCode != 0 {
		out := strings.TrimSpace(res.Stdout + res.Stderr)
		if len(out) > 200 {
			out = out[len(out)-200:]
		}
		return false, out
	}
	return true, ""
}

// probedHealth is a task's health by opdeploy's runs of its healthcheck:
// starting until it first passes, then healthy until `retries`
// consecutive failures, as the engine counts.
func probedHealth(s types.ServiceConfig, p probeState, seen bool) (target.Health, string) {
	retries := defaultHealthRetries
	if s.HealthCheck != nil && s.HealthCheck.Retries != nil && *s.HealthCheck.Retries > 0 {
		retries = int(*s.HealthCheck.Retries)
	}
	switch {
	case !seen:
		return target.HealthStarting, "healthcheck not run yet"
	case p.passed && p.fails < retries:
		return target.HealthHealthy, ""
	case p.passed:
		return target.HealthUnhealthy, "unhealthy: " + p.output
	}
	reason := "healthcheck has not passed yet"
	if p.output != "" {
		reason += ": " + p.output
	}
	return target.HealthStarting, reason
}
