package local

import (
	"context"
	"time"

	"github.com/moby/moby/client"

	"github.com/opdeploy/opdeploy/target"
)

// healthInspectBound bounds the inspects that learn what an event does
// not say: whether an image has a healthcheck, whether a dead container
// is restarted.
const healthInspectBound = 10 * time.Second

// startHealth sets the health a container has right after it starts:
// "starting" when it has a healthcheck, "none" when not. The compose file
// usually says; when it does not, the image decides, and that takes an
// inspect. The inspect runs off the event loop, so a slow engine never
// stalls the monitor: meanwhile health is "starting" (nothing counts the
// container ready, nor fails it for lacking a healthcheck), and the
// answer, remembered per container, settles it. Called with m.mu held.
func (m *monitor) startHealth(st *containerState) {
	st.Health, st.HealthGuessed = target.HealthNone, false
	hc, known := false, false
	if m.declared != nil {
		hc, known = m.declared(st.Service)
	}
	if !known {
		hc, known = m.hc[st.ID]
	}
	switch {
	case known && hc:
		st.Health = target.HealthStarting
	case !known:
		st.Health, st.HealthGuessed = target.HealthStarting, true
		go m.learnHealthcheck(st.ID)
	}
}

// learnHealthcheck inspects a container to learn whether it has a
// healthcheck, and settles a guessed health. An inspect that fails counts
// as "no healthcheck": a wrong guess must not hold a wait forever.
func (m *monitor) learnHealthcheck(id string) {
	ctx, cancel := context.WithTimeout(m.ctx, healthInspectBound)
	defer cancel()
	res, err := m.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	hc := err == nil && res.Container.Config != nil && res.Container.Config.Healthcheck != nil &&
		len(res.Container.Config.Healthcheck.Test) > 0 && res.Container.Config.Healthcheck.Test[0] != "NONE"
	m.mu.Lock()
	m.hc[id] = hc
	st, ok := m.containers[id]
	changed := ok && st.HealthGuessed
	if changed {
		st.HealthGuessed = false
		if !hc && st.Health == target.HealthStarting {
			st.Health = target.HealthNone
		}
		st.Seq++
	}
	m.mu.Unlock()
	if changed {
		m.broadcast()
	}
}

// learnExit inspects a container that died, to learn whether the engine
// restarts it (its state is then "restarting") or leaves it exited: a die
// event does not say, and a restart policy is no promise — the engine does
// not restart a container stopped or killed by hand, nor one out of
// retries. The answer replaces the guess unless a newer event came.
func (m *monitor) learnExit(id string, seq int) {
	ctx, cancel := context.WithTimeout(m.ctx, healthInspectBound)
	defer cancel()
	res, err := m.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	m.mu.Lock()
	st, ok := m.containers[id]
	changed := ok && st.ExitGuessed && st.Seq == seq
	if changed {
		st.ExitGuessed = false
		if err == nil && res.Container.State != nil && res.Container.State.Restarting {
			st.State = target.StateRestarting
		}
		st.Seq++
	}
	m.mu.Unlock()
	if changed {
		m.broadcast()
	}
}
