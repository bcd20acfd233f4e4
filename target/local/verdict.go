package local

import (
	"fmt"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/opdeploy/opdeploy/target"
)

// role is what a service is declared to do, which decides what "ready"
// means for its containers.
type role struct {
	Name     string
	Replicas int
	// OneShot: a job that runs to completion (oneshot.go); ready once it
	// exited 0. Every other service is meant to keep running.
	OneShot bool
	Restart string // compose restart policy: whether the engine restarts an exit
}

func (d *Deployment) role(s types.ServiceConfig) role {
	return role{Name: s.Name, Replicas: s.GetScale(), OneShot: d.oneShot[s.Name], Restart: restartOf(s)}
}

// verdict is what opdeploy concludes about one container: the one rule
// that up's waits, restart, wait_healthy and status apply (docs/compose.md,
// "When a service is ready").
type verdict struct {
	Ready bool
	// Final: the container will not become ready without someone acting:
	// it exited and nothing restarts it, or it crashed after this run
	// started it (a crash loop that its restart policy hides is still a
	// crash).
	Final bool
	// Reason says why it is not ready ("" when ready), or "completed" for
	// a one-shot job that finished.
	Reason string
	// RecheckAt is when the verdict changes by itself if no event comes: a
	// container without healthcheck becomes ready once it has run for the
	// settle window.
	RecheckAt time.Time
}

// baseline is what a wait knew of a container when it began.
type baseline struct {
	// Fresh: this run (re)starts the container. It counts only once a
	// start newer than Starts is seen, and any exit after that start is a
	// crash.
	Fresh  bool
	Starts int
	// Dies is its die count when the wait began: for a container the wait
	// did not start, any die since is a crash.
	Dies int
	// Confirm: what the events say of its health must be confirmed with
	// the engine before a wait ends (see waitConfirmed). True for the
	// containers this run started or made whole again (unpaused: no
	// event says what its health became meanwhile).
	Confirm bool
}

// crashedSince reports whether the container exited since the wait began
// (or, for one this run started, after that start).
func crashedSince(c containerState, b baseline, known bool) bool {
	if !known {
		return false
	}
	if b.Fresh {
		return c.Dies > 0 && c.DiedAfterStart > b.Starts
	}
	return c.Dies > b.Dies
}

// judge applies the rule to one container. watched holds what the wait
// knew of the containers it watches (nil for a one-off verdict such as
// status's).
func judge(c containerState, r role, watched map[string]baseline, now time.Time) verdict {
	b, known := watched[c.ID]
	if b.Fresh && c.Starts <= b.Starts {
		return verdict{Reason: "starting"}
	}
	crashed := crashedSince(c, b, known)
	crash := func(state string) verdict {
		return verdict{Final: true, Reason: fmt.Sprintf("exited with code %d after it was started%s", c.LastExit, state)}
	}
	switch c.State {
	case target.StateCreated:
		return verdict{Reason: "created, never started"}
	case target.StateRunning:
		switch {
		case crashed && !r.OneShot:
			return crash(", and its restart policy started it again")
		case r.OneShot:
			return verdict{Reason: "one-shot job still running"}
		case c.Health == target.HealthHealthy:
			return verdict{Ready: true}
		case c.Health == target.HealthUnhealthy:
			return verdict{Reason: "unhealthy"}
		case c.Health == target.HealthStarting:
			return verdict{Reason: "healthcheck has not passed yet"}
		}
		if settled := c.StartedAt.Add(target.SettleWindow); now.Before(settled) {
			return verdict{Reason: fmt.Sprintf("running for less than %s (no healthcheck; it must keep running that long)", target.SettleWindow), RecheckAt: settled}
		}
		return verdict{Ready: true}
	case target.StatePaused:
		return verdict{Reason: "paused"}
	case target.StateRestarting:
		if crashed && !r.OneShot {
			return crash(", and its restart policy is restarting it")
		}
		return verdict{Reason: fmt.Sprintf("restarting after exit code %d", c.LastExit)}
	case target.StateExited:
		exited := fmt.Sprintf("exited with code %d", c.ExitCode)
		if r.OneShot {
			if c.ExitCode == 0 {
				return verdict{Ready: true, Reason: "completed"}
			}
			if c.ExitGuessed && willRestart(r.Restart, c.ExitCode) {
				return verdict{Reason: exited + "; asking the engine whether its restart policy runs it again"}
			}
			return verdict{Final: true, Reason: exited}
		}
		if crashed {
			return crash("")
		}
		if c.ExitGuessed && willRestart(r.Restart, c.ExitCode) {
			return verdict{Reason: exited + "; asking the engine whether its restart policy starts it again"}
		}
		if c.ExitCode == 0 {
			exited += " (stopped; the service is meant to keep running, not a one-shot job)"
		}
		if willRestart(r.Restart, c.ExitCode) {
			// The engine keeps a container it will restart "restarting".
			exited += "; its restart policy does not start it again (stopped or killed by hand, or out of retries)"
		}
		return verdict{Final: true, Reason: exited}
	case target.StateDead:
		return verdict{Final: true, Reason: "dead"}
	}
	return verdict{Reason: string(c.State)}
}

// readiness says whether a service's containers ids are all ready and
// there are as many as its replicas; err is set when one of them will not
// become ready on its own. recheckAt is when to look again if no event
// comes.
func readiness(r role, ids []string, watched map[string]baseline, snap []containerState, now time.Time) (ready bool, recheckAt time.Time, err error) {
	byID := map[string]containerState{}
	for _, c := range snap {
		byID[c.ID] = c
	}
	if len(ids) < r.Replicas {
		// Nothing a wait watches will create it: up makes every replica
		// before it waits, and other verbs wait on what exists.
		return false, time.Time{}, fmt.Errorf("no container for %d of its %d replicas (removed; up creates them)", r.Replicas-len(ids), r.Replicas)
	}
	ready = true
	for _, id := range ids {
		c, ok := byID[id]
		if !ok {
			ready = false
			continue
		}
		v := judge(c, r, watched, now)
		if v.Final {
			return false, time.Time{}, fmt.Errorf("%s %s", c.Name, v.Reason)
		}
		if !v.Ready {
			ready = false
			if !v.RecheckAt.IsZero() && (recheckAt.IsZero() || v.RecheckAt.Before(recheckAt)) {
				recheckAt = v.RecheckAt
			}
		}
	}
	return ready, recheckAt, nil
}

// conditionMet evaluates a depends_on condition over the containers ids of
// a dependency, with compose's meaning: service_started once started,
// service_healthy once healthy, service_completed_successfully once exited 0.
// Containers this run started count only once their start event is seen.
func conditionMet(condition string, dep role, ids []string, watched map[string]baseline, snap []containerState) (bool, error) {
	byID := map[string]containerState{}
	for _, c := range snap {
		byID[c.ID] = c
	}
	if len(ids) == 0 {
		return dep.Replicas == 0, nil
	}
	for _, id := range ids {
		c, ok := byID[id]
		if !ok {
			return false, nil
		}
		b, known := watched[c.ID]
		if b.Fresh && c.Starts <= b.Starts {
			return false, nil
		}
		crashed := crashedSince(c, b, known)
		switch condition {
		case types.ServiceConditionCompletedSuccessfully:
			if c.State != target.StateExited {
				return false, nil
			}
			if c.ExitCode != 0 {
				return false, fmt.Errorf("%s exited with code %d", c.Name, c.ExitCode)
			}
		case types.ServiceConditionHealthy:
			if crashed {
				return false, fmt.Errorf("%s exited with code %d before it was healthy", c.Name, c.LastExit)
			}
			if c.State == target.StateExited && !(c.ExitGuessed && willRestart(dep.Restart, c.ExitCode)) {
				return false, fmt.Errorf("%s exited with code %d before it was healthy", c.Name, c.ExitCode)
			}
			if c.State == target.StateRunning && c.Health == target.HealthNone && c.Starts > 0 {
				return false, fmt.Errorf("%s has no healthcheck, so it cannot become healthy", c.Name)
			}
			if c.State != target.StateRunning || c.Health != target.HealthHealthy {
				return false, nil
			}
		default: // service_started
			if c.State == target.StateCreated {
				return false, nil
			}
		}
	}
	return true, nil
}

// willRestart reports whether the engine restarts a container that exited
// with code under a compose restart policy.
func willRestart(policy string, code int) bool {
	mode, _, _ := strings.Cut(policy, ":")
	switch mode {
	case "always", "unless-stopped":
		return true
	case "on-failure":
		return code != 0
	}
	return false
}
