package local

import (
	"context"
	"time"

	"github.com/moby/moby/client"

	"github.com/opdeploy/opdeploy/target"
)

// healthInspectBound bounds the inspect that learns whether a container's
// image has a healthcheck.
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
