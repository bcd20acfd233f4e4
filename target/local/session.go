package local

import (
	"context"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// session is what a verb holds while it acts on the project: a client, the
// project lock (for verbs that change the project: a second opdeploy waits
// for the first), and the event monitor (for verbs that wait on
// containers). Every verb opens one the same way.
type session struct {
	cli     dockerapi.API
	mon     *monitor
	closers []func()
}

// sessionNeeds says what a verb needs beyond a client.
type sessionNeeds struct {
	lock    bool
	monitor bool
}

func (d *Deployment) open(ctx context.Context, progress target.Progress, needs sessionNeeds) (*session, error) {
	cli, err := d.engine.Client(ctx)
	if err != nil {
		return nil, err
	}
	s := &session{cli: cli}
	if needs.lock {
		unlock, err := lockProject(ctx, d.project.Name, target.OrNoProgress(progress))
		if err != nil {
			return nil, err
		}
		s.closers = append(s.closers, unlock)
	}
	if needs.monitor {
		monCtx, stop := context.WithCancel(ctx)
		mon, err := startMonitor(monCtx, cli, d.project.Name, d.healthcheckDeclared)
		if err != nil {
			stop()
			s.close()
			return nil, err
		}
		s.mon = mon
		s.closers = append(s.closers, stop)
	}
	return s, nil
}

// close releases what open took, in reverse order.
func (s *session) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}
