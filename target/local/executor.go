package local

import (
	"context"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/client"
	"golang.org/x/sync/errgroup"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// executor runs a plan. It makes no decisions of its own: each operation
// says what to do and carries what it needs.
type executor struct {
	d          *Deployment
	cli        dockerapi.API
	mon        *monitor
	progress   target.Progress
	apiVersion string

	// timeout is up's --timeout, which ends at deadline (zero: none); the
	// context the executor runs under already carries it.
	timeout  time.Duration
	deadline time.Time

	mu      sync.Mutex
	names   map[string]string   // container ID -> name, for the ones this run made
	current map[string][]string // service -> IDs of its containers after this run
	watched map[string]baseline // what the waits knew of each container when this run began (verdict.go)

	// replicas are the containers of each service by replica number, as
	// they are now: references to a service resolve to its first one.
	replicas map[string]map[int]string

	created map[string]chan struct{} // closed once a service's containers exist
	started map[string]chan struct{} // closed once a service's containers are started
	sem     chan struct{}            // bounds container API calls in flight
}

func newExecutor(d *Deployment, cli dockerapi.API, mon *monitor, progress target.Progress) *executor {
	return &executor{
		d: d, cli: cli, mon: mon, progress: progress,
		apiVersion: cli.ClientVersion(),
		names:      map[string]string{},
		current:    map[string][]string{},
		watched:    watchAll(mon),
		replicas:   map[string]map[int]string{},
		created:    map[string]chan struct{}{},
		started:    map[string]chan struct{}{},
		sem:        make(chan struct{}, maxParallel),
	}
}

func (x *executor) event(resource target.Resource, service string, action target.Action, detail string, done bool, err error) {
	x.progress.Event(target.ProgressEvent{Time: time.Now(), Resource: resource, Service: service, Action: action, Detail: detail, Done: done, Err: err})
}

// adopt counts the containers the plan leaves as they are (or only
// restarts) as the services' current containers, which the waits watch,
// and records which container is each replica.
func (x *executor) adopt(p *plan, obs observedState) {
	keep := map[string]bool{}
	for _, name := range p.Unchanged {
		keep[name] = true
	}
	for _, c := range obs.Containers {
		if keep[c.Name] {
			x.current[c.Service] = append(x.current[c.Service], c.ID)
		}
	}
	for svc, id := range ownerIDs(obs.Containers) {
		for _, c := range obs.Containers {
			if c.ID == id {
				x.setReplicaLocked(svc, c.Number, id)
			}
		}
	}
}

// setReplicaLocked records that a service's replica is now container id;
// x.mu must be held (or the executor not yet running).
func (x *executor) setReplicaLocked(service string, number int, id string) {
	if x.replicas[service] == nil {
		x.replicas[service] = map[int]string{}
	}
	x.replicas[service][number] = id
}

// ownerIDs gives, by service, the container references to it resolve to:
// its lowest-numbered replica.
func (x *executor) ownerIDs() map[string]string {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := map[string]string{}
	for svc, byNumber := range x.replicas {
		lowest := -1
		for n := range byNumber {
			if lowest == -1 || n < lowest {
				lowest = n
			}
		}
		if lowest != -1 {
			out[svc] = byNumber[lowest]
		}
	}
	return out
}

// waitOwners waits until the services whose containers s references (its
// network, IPC or PID namespace, volumes_from) have theirs created: the
// engine needs their IDs to create s's.
func (x *executor) waitOwners(ctx context.Context, s types.ServiceConfig) error {
	for _, owner := range refOwners(s) {
		ch, ok := x.created[owner]
		if !ok {
			continue // not brought up by this run: its containers exist already or not at all
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	return nil
}

// run carries out the plan's resources, orphan removals and containers;
// images have been made already (runImages).
func (x *executor) run(ctx context.Context, p *plan, services []types.ServiceConfig) error {
	// Networks, volumes and orphan removals are independent of one
	// another; containers need all of them.
	g, gctx := errgroup.WithContext(ctx)
	for _, op := range p.Resources {
		g.Go(func() error { return x.runResource(gctx, op) })
	}
	for _, op := range p.Orphans {
		if op.Kind == opRemoveContainer {
			g.Go(func() error { return x.removeContainer(gctx, op) })
		}
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, s := range services {
		x.started[s.Name] = make(chan struct{})
		x.created[s.Name] = make(chan struct{})
	}
	g, gctx = errgroup.WithContext(ctx)
	for _, s := range services {
		g.Go(func() error {
			err := x.runService(gctx, s, p.Containers[s.Name], p.Restarts[s.Name])
			if err == nil {
				close(x.started[s.Name])
			}
			return err
		})
	}
	return g.Wait()
}

// runService creates what can be created at once, waits for the service's
// dependencies, restarts what the plan restarts, then starts its
// containers in parallel. Nothing waits for an unrelated service.
func (x *executor) runService(ctx context.Context, s types.ServiceConfig, ops, restarts []operation) error {
	if err := x.waitOwners(ctx, s); err != nil {
		return err
	}
	var toStart []string
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	for _, op := range ops {
		g.Go(func() error {
			x.sem <- struct{}{}
			defer func() { <-x.sem }()
			var id string
			var err error
			switch op.Kind {
			case opCreateContainer:
				id, err = x.createContainer(gctx, op, nil)
			case opRecreate:
				id, err = x.recreateContainer(gctx, op)
			case opStartContainer:
				id = op.ContainerID
			case opRemoveContainer:
				return x.removeContainer(gctx, op)
			case opUnpauseContainer, opConnectContainer:
				// Running already: made whole again, it is current as it is,
				// its health to be confirmed with the engine.
				if err := x.repairContainer(gctx, op); err != nil {
					return err
				}
				x.mu.Lock()
				x.current[s.Name] = append(x.current[s.Name], op.ContainerID)
				b := x.watched[op.ContainerID]
				b.Confirm = true
				x.watched[op.ContainerID] = b
				x.mu.Unlock()
				return nil
			}
			if err != nil {
				return err
			}
			mu.Lock()
			toStart = append(toStart, id)
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	close(x.created[s.Name])
	if err := x.waitDependencies(ctx, s); err != nil {
		return err
	}
	if err := x.restartContainers(ctx, s, restarts); err != nil {
		return err
	}
	return x.startContainers(ctx, s, toStart)
}

// markFresh records containers this run is about to (re)start, with their
// start count now: each counts as (re)started only once a newer start
// event arrives, since until then the snapshot may still show the state
// from before (an old exit, an old "healthy").
func (x *executor) markFresh(ids []string) {
	snap, _ := x.mon.snapshot()
	starts := map[string]int{}
	for _, c := range snap {
		starts[c.ID] = c.Starts
	}
	x.mu.Lock()
	for _, id := range ids {
		b := x.watched[id]
		b.Fresh, b.Starts, b.Confirm = true, starts[id], true
		x.watched[id] = b
	}
	x.mu.Unlock()
}

// watchAll records every container's die count now, when a wait begins:
// a container that dies after that has crashed during the wait, whoever
// started it.
func watchAll(mon *monitor) map[string]baseline {
	snap, _ := mon.snapshot()
	out := make(map[string]baseline, len(snap))
	for _, c := range snap {
		out[c.ID] = baseline{Dies: c.Dies}
	}
	return out
}

func (x *executor) containerName(id string) string {
	x.mu.Lock()
	name, ok := x.names[id]
	x.mu.Unlock()
	if ok {
		return name
	}
	snap, _ := x.mon.snapshot()
	for _, c := range snap {
		if c.ID == id {
			return c.Name
		}
	}
	return id[:min(12, len(id))]
}

func (x *executor) ids(service string) []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	return append([]string(nil), x.current[service]...)
}

// baselines copies what the waits knew of each container.
func (x *executor) baselines() map[string]baseline {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := make(map[string]baseline, len(x.watched))
	for id, b := range x.watched {
		out[id] = b
	}
	return out
}

// undoStart makes sure a container whose start was cancelled (Ctrl-C, or a
// sibling's failure) is not left running: the engine may finish a start
// whose request was abandoned. It stops the container with a short grace
// period, bounded even though ctx is done, and says what it did.
func (x *executor) undoStart(ctx context.Context, service, id, name string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), undoStartBound)
	defer cancel()
	grace := int(undoStartGrace.Seconds())
	for range 2 { // a start still in the engine's hands can land after the first stop
		if _, err := x.cli.ContainerStop(ctx, id, client.ContainerStopOptions{Timeout: &grace}); err != nil && !isNotFound(err) {
			x.event(target.Container(name), service, target.ActionCancelled, "its start was cancelled and stopping it failed; it may be running", true, err)
			return
		}
		res, err := x.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
		if err != nil || res.Container.State == nil || !res.Container.State.Running {
			break
		}
	}
	x.event(target.Container(name), service, target.ActionCancelled, "start cancelled; not running", true, nil)
}

// undoStartGrace and undoStartBound bound undoStart: the container had just
// been started, so it has nothing to shut down gracefully.
const (
	undoStartGrace = 2 * time.Second
	undoStartBound = 15 * time.Second
)
