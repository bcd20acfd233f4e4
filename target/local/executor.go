package local

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/client"
	"golang.org/x/sync/errgroup"

	"github.com/opdeploy/opdeploy/target"
)

// executor runs a plan. It makes no decisions of its own.
type executor struct {
	d          *Deployment
	cli        engineAPI
	mon        *monitor
	progress   target.Progress
	apiVersion string

	// timeout is up's --timeout, which ends at deadline (zero: none); the
	// context the executor runs under already carries it.
	timeout  time.Duration
	deadline time.Time

	mu        sync.Mutex
	recreated map[string]bool     // services with a container recreated by this run
	names     map[string]string   // container ID -> name, for the ones this run made
	current   map[string][]string // service -> IDs of its containers after this run
	fresh     map[string]int      // containers started by this run -> their start count before

	started map[string]chan struct{}
	sem     chan struct{}
}

func (x *executor) event(resource target.Resource, service string, action target.Action, detail string, done bool, err error) {
	x.progress.Event(target.ProgressEvent{Time: time.Now(), Resource: resource, Service: service, Action: action, Detail: detail, Done: done, Err: err})
}

func (x *executor) run(ctx context.Context, p *plan, services []types.ServiceConfig) error {
	x.fresh = map[string]int{}
	project := x.d.project

	// Images come first: on our machines a pull is what fails, and then
	// nothing else has been touched. Networks, volumes and orphan removals
	// are independent of one another; containers need all of them.
	// Every image is tried, so that one failure does not hide the others:
	// a subject whose images cannot be pulled hears of all of them at once.
	imageErrs := make([]error, len(p.Images))
	var wg sync.WaitGroup
	for i, op := range p.Images {
		wg.Go(func() {
			users := strings.Split(strings.TrimPrefix(op.Reason, "for "), ", ")
			if op.Kind == opBuildImage {
				imageErrs[i] = buildImage(ctx, x.cli, op.Name, project.Services[users[0]], x.progress)
			} else {
				imageErrs[i] = pullImage(ctx, x.cli, op.Name, users, x.progress)
			}
		})
	}
	wg.Wait()
	if err := joinImageErrors(imageErrs); err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, op := range p.Resources {
		g.Go(func() error { return x.createResource(gctx, op) })
	}
	for _, op := range p.Orphans {
		if op.Kind == opRemoveContainer {
			g.Go(func() error { return x.removeContainer(gctx, op) })
		}
	}
	if err := g.Wait(); err != nil {
		return err
	}
	// Image IDs may have changed with pulls and builds.
	imageIDs := map[string]string{}
	for _, s := range services {
		ref := imageRef(project.Name, s)
		if _, ok := imageIDs[ref]; !ok {
			id, err := imageID(ctx, x.cli, ref)
			if err != nil {
				return err
			}
			imageIDs[ref] = id
		}
	}

	for _, s := range services {
		x.started[s.Name] = make(chan struct{})
	}
	g, gctx = errgroup.WithContext(ctx)
	for _, s := range services {
		g.Go(func() error {
			err := x.runService(gctx, s, p.Containers[s.Name], imageIDs[imageRef(project.Name, s)])
			if err == nil {
				close(x.started[s.Name])
			}
			return err
		})
	}
	return g.Wait()
}

func (x *executor) createResource(ctx context.Context, op operation) error {
	project := x.d.project
	labels := map[string]string{labelProject: project.Name, labelVersion: composeVersion}
	switch op.Kind {
	case opCreateNetwork:
		for key, n := range project.Networks {
			if n.Name != op.Name {
				continue
			}
			labels[labelNetwork] = key
			for k, v := range n.Labels {
				labels[k] = v
			}
			// A network of that name may exist without our label (made by
			// hand, or by another tool): reuse it, as compose does, rather
			// than make a twin the engine would then find ambiguous.
			byName := client.Filters{}
			byName.Add("name", op.Name)
			if list, err := x.cli.NetworkList(ctx, client.NetworkListOptions{Filters: byName}); err == nil {
				for _, existing := range list.Items {
					if existing.Name == op.Name {
						x.event(target.Network(op.Name), "", target.ActionWarning, "exists without this project's label; using it", true, nil)
						return nil
					}
				}
			}
			x.event(target.Network(op.Name), "", target.ActionCreating, "", false, nil)
			_, err := x.cli.NetworkCreate(ctx, op.Name, client.NetworkCreateOptions{
				Driver: n.Driver, Options: n.DriverOpts, Internal: n.Internal, Attachable: n.Attachable, Labels: labels,
			})
			if err != nil && !isConflict(err) {
				return fmt.Errorf("create network %s: %w", op.Name, err)
			}
			x.event(target.Network(op.Name), "", target.ActionCreated, "", true, nil)
			return nil
		}
	case opCreateVolume:
		for key, v := range project.Volumes {
			if v.Name != op.Name {
				continue
			}
			labels[labelVolume] = key
			for k, val := range v.Labels {
				labels[k] = val
			}
			x.event(target.Volume(op.Name), "", target.ActionCreating, "", false, nil)
			if _, err := x.cli.VolumeCreate(ctx, client.VolumeCreateOptions{Name: op.Name, Driver: v.Driver, DriverOpts: v.DriverOpts, Labels: labels}); err != nil {
				return fmt.Errorf("create volume %s: %w", op.Name, err)
			}
			x.event(target.Volume(op.Name), "", target.ActionCreated, "", true, nil)
			return nil
		}
	}
	return fmt.Errorf("%s: not in the project", op)
}

// runService creates what can be created at once, waits for the service's
// dependencies, then starts its containers in parallel.
func (x *executor) runService(ctx context.Context, s types.ServiceConfig, ops []operation, imageID string) error {
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
				id, err = x.createContainer(gctx, s, op.Number, imageID, nil)
			case opRecreate:
				id, err = x.recreateContainer(gctx, s, op, imageID)
				x.markRecreated(s.Name, err)
			case opRecreateIfImage:
				if imageID == op.ImageID {
					id = op.ContainerID
					if op.Running { // unchanged and running: nothing to do
						x.mu.Lock()
						x.current[s.Name] = append(x.current[s.Name], id)
						x.mu.Unlock()
						return nil
					}
					break
				}
				op.Reason = "image changed"
				id, err = x.recreateContainer(gctx, s, op, imageID)
				x.markRecreated(s.Name, err)
			case opStartContainer:
				id = op.ContainerID
			case opRemoveContainer:
				return x.removeContainer(gctx, op)
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
	if err := x.waitDependencies(ctx, s); err != nil {
		return err
	}
	if err := x.restartForRecreatedDependency(ctx, s); err != nil {
		return err
	}
	// Each container counts as (re)started only once a start event newer
	// than this baseline arrives: until then the snapshot may still show
	// the state from before the start (an old exit, an old "healthy").
	snap, _ := x.mon.snapshot()
	baseline := map[string]int{}
	for _, c := range snap {
		baseline[c.ID] = c.Starts
	}
	x.mu.Lock()
	for _, id := range toStart {
		x.fresh[id] = baseline[id]
	}
	x.mu.Unlock()
	g, gctx = errgroup.WithContext(ctx)
	for _, id := range toStart {
		g.Go(func() error {
			x.sem <- struct{}{}
			defer func() { <-x.sem }()
			name := x.containerName(id)
			x.event(target.Container(name), s.Name, target.ActionStarting, "", false, nil)
			if _, err := x.cli.ContainerStart(gctx, id, client.ContainerStartOptions{}); err != nil {
				if gctx.Err() != nil {
					x.undoStart(ctx, s.Name, id, name)
					return context.Cause(gctx)
				}
				err = fmt.Errorf("service %q: start %s: %w", s.Name, name, err)
				x.event(target.Container(name), s.Name, target.ActionStartFailed, "", true, err)
				return err
			}
			x.event(target.Container(name), s.Name, target.ActionStarted, "", true, nil)
			return nil
		})
	}
	err := g.Wait()
	x.mu.Lock()
	x.current[s.Name] = append(x.current[s.Name], toStart...)
	x.mu.Unlock()
	return err
}

func (x *executor) markRecreated(service string, err error) {
	if err != nil {
		return
	}
	x.mu.Lock()
	if x.recreated == nil {
		x.recreated = map[string]bool{}
	}
	x.recreated[service] = true
	x.mu.Unlock()
}

// restartForRecreatedDependency restarts s's containers that this run left
// alone when a dependency it declares with restart: true was recreated, as
// compose does: the dependent may hold connections to the old container.
func (x *executor) restartForRecreatedDependency(ctx context.Context, s types.ServiceConfig) error {
	var because []string
	x.mu.Lock()
	for dep, cfg := range s.DependsOn {
		if cfg.Restart && x.recreated[dep] {
			because = append(because, dep)
		}
	}
	kept := append([]string(nil), x.current[s.Name]...)
	x.mu.Unlock()
	if len(because) == 0 || len(kept) == 0 {
		return nil
	}
	sort.Strings(because)
	snap, _ := x.mon.snapshot()
	x.mu.Lock()
	for _, c := range snap {
		for _, id := range kept {
			if c.ID == id {
				x.fresh[id] = c.Starts
			}
		}
	}
	x.mu.Unlock()
	g, gctx := errgroup.WithContext(ctx)
	for _, id := range kept {
		g.Go(func() error {
			name := x.containerName(id)
			x.event(target.Container(name), s.Name, target.ActionRestarting, strings.Join(because, ", ")+" was recreated (depends_on restart: true)", false, nil)
			if _, err := x.cli.ContainerRestart(gctx, id, client.ContainerRestartOptions{}); err != nil {
				return fmt.Errorf("service %q: restart %s: %w", s.Name, name, err)
			}
			x.event(target.Container(name), s.Name, target.ActionRestarted, "", true, nil)
			return nil
		})
	}
	return g.Wait()
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

func (x *executor) freshIDs() map[string]int {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := make(map[string]int, len(x.fresh))
	for id, n := range x.fresh {
		out[id] = n
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
