package local

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"golang.org/x/sync/errgroup"

	"github.com/opdeploy/opdeploy/target"
)

// maxParallel bounds concurrent container API calls. Starts are never
// serialized across services; on our 2-core engine, 50 starts took 9.9 s
// at 4, 9.2 s at 8, 8.7 s at 16 and 8.4 s at 50 in flight, so the bound
// mostly protects the daemon on large projects.
const maxParallel = 32

// Up converges the engine on the project: observe what exists, compute a
// plan, run it in dependency order, then (unless NoWait) wait for every
// service to be ready.
func (d *Deployment) Up(ctx context.Context, opts target.UpOptions) error {
	progress := orNoProgress(opts.Progress)
	services, err := d.selectServices(opts.Services)
	if err != nil {
		return err
	}
	for _, s := range services {
		warnings, err := checkSupported(s)
		for _, w := range warnings {
			progress.Event(target.ProgressEvent{Time: time.Now(), Resource: "service " + s.Name, Service: s.Name, Action: "warning", Detail: w})
		}
		if err != nil {
			return err
		}
	}
	cli, err := d.engine.Client(ctx)
	if err != nil {
		return err
	}
	for _, s := range services {
		if err := checkEngineSupport(s, cli.ClientVersion()); err != nil {
			return err
		}
		for key := range s.Networks {
			if n, ok := d.project.Networks[key]; ok {
				if err := checkNetworkSupported(key, n); err != nil {
					return err
				}
			}
		}
	}
	if apiBefore(cli.ClientVersion(), "1.44") {
		for _, s := range services {
			if s.HealthCheck != nil && s.HealthCheck.StartInterval != nil {
				progress.Event(target.ProgressEvent{Time: time.Now(), Resource: "service " + s.Name, Service: s.Name, Action: "warning",
					Detail: fmt.Sprintf("service %q: healthcheck.start_interval is ignored: the engine speaks API %s and it needs 1.44", s.Name, cli.ClientVersion())})
			}
		}
	}
	if !opts.DryRun {
		unlock, err := lockProject(ctx, d.project.Name, progress)
		if err != nil {
			return err
		}
		defer unlock()
	}

	// Binary images first: the plan needs their IDs, and a build that
	// fails should leave nothing else changed.
	if err := d.buildBinaryImages(ctx, cli, progress, opts.DryRun); err != nil {
		return err
	}

	monCtx, stopMonitor := context.WithCancel(ctx)
	defer stopMonitor()
	mon, err := startMonitor(monCtx, cli, d.project.Name, d.hasHealthcheck)
	if err != nil {
		return err
	}

	obs, desired, err := d.observe(ctx, cli, services, mon)
	if err != nil {
		return err
	}
	for _, s := range desired {
		if s.Pull == "never" && s.ImageID == "" && !s.Build && !s.Binary {
			return fmt.Errorf("service %q: image %s is not present and pull_policy is never", s.Name, s.Image)
		}
	}
	known := map[string]bool{}
	for _, s := range d.project.AllServices() {
		known[s.Name] = true
	}
	networks, volumes := d.resources(services)
	p := reconcile(d.project.Name, networks, volumes, desired, known, obs, reconcileOptions{
		ForceRecreate: opts.ForceRecreate, NoRecreate: opts.NoRecreate,
		RemoveOrphans: opts.RemoveOrphans, Build: opts.Build,
	})
	if opts.DryRun {
		for _, line := range strings.Split(strings.TrimSpace(p.String()), "\n") {
			if line != "" {
				progress.Event(target.ProgressEvent{Time: time.Now(), Action: "plan", Detail: line})
			}
		}
		return nil
	}
	for _, op := range p.Orphans {
		if op.Kind == opKeepOrphan {
			progress.Event(target.ProgressEvent{Time: time.Now(), Resource: "container " + op.Name, Service: op.Service, Action: "warning", Detail: "orphan: service " + op.Service + " is not in the project; --remove-orphans removes it"})
		}
	}

	x := &executor{
		d: d, cli: cli, mon: mon, progress: progress,
		apiVersion: cli.ClientVersion(),
		current:    map[string][]string{},
		started:    map[string]chan struct{}{},
		sem:        make(chan struct{}, maxParallel),
	}
	for _, name := range p.Unchanged {
		for _, c := range obs.Containers {
			if c.Name == name {
				x.current[c.Service] = append(x.current[c.Service], c.ID)
			}
		}
	}
	x.timeout = opts.Timeout
	if err := x.run(ctx, p, services); err != nil {
		if errors.Is(err, errWaitTimeout) && ctx.Err() == nil {
			return x.diagnose(context.WithoutCancel(ctx), services, err, opts.Timeout)
		}
		return err
	}
	if opts.NoWait {
		return nil
	}
	return x.waitReady(ctx, services, opts.Timeout)
}

// selectServices returns the named services and everything they depend on
// (all active services when names is empty), in natural order.
func (d *Deployment) selectServices(names []string) ([]types.ServiceConfig, error) {
	if len(names) == 0 {
		names = d.project.ServiceNames()
	}
	seen := map[string]bool{}
	var visit func(name, from string) error
	visit = func(name, from string) error {
		if seen[name] {
			return nil
		}
		s, ok := d.project.Services[name]
		if !ok {
			if _, disabled := d.project.DisabledServices[name]; disabled {
				return fmt.Errorf("service %q is not active (enable its profile with --profile)", name)
			}
			if from != "" {
				return fmt.Errorf("service %q depends on %q, which is not in project %q", from, name, d.project.Name)
			}
			return fmt.Errorf("no service %q in project %q (services: %s)", name, d.project.Name, strings.Join(d.Describe().ServiceNames(), ", "))
		}
		seen[name] = true
		for dep, cfg := range s.DependsOn {
			if _, ok := d.project.Services[dep]; !ok && !cfg.Required {
				continue
			}
			if err := visit(dep, name); err != nil {
				return err
			}
		}
		return nil
	}
	for _, n := range names {
		if err := visit(n, ""); err != nil {
			return nil, err
		}
	}
	selected := make([]string, 0, len(seen))
	for n := range seen {
		selected = append(selected, n)
	}
	target.SortNatural(selected)
	out := make([]types.ServiceConfig, len(selected))
	for i, n := range selected {
		out[i] = d.project.Services[n]
	}
	return out, nil
}

func (d *Deployment) hasHealthcheck(service string) bool {
	s, ok := d.project.Services[service]
	return ok && s.HealthCheck != nil && !s.HealthCheck.Disable
}

// resources lists the engine names of the networks and volumes the
// services need and that opdeploy manages (external ones must exist).
func (d *Deployment) resources(services []types.ServiceConfig) (networks, volumes []string) {
	nets, vols := map[string]bool{}, map[string]bool{}
	for _, s := range services {
		if s.NetworkMode == "" {
			for key := range s.Networks {
				if n, ok := d.project.Networks[key]; ok && !bool(n.External) {
					nets[n.Name] = true
				}
			}
		}
		for _, v := range s.Volumes {
			if v.Type == types.VolumeTypeVolume && v.Source != "" {
				if vol, ok := d.project.Volumes[v.Source]; ok && !bool(vol.External) {
					vols[vol.Name] = true
				}
			}
		}
	}
	return sortedKeys(nets), sortedKeys(vols)
}

// observe reads what exists: containers (from the monitor's snapshot, which
// is current), networks, volumes and images, and computes each service's
// desired state.
func (d *Deployment) observe(ctx context.Context, cli *client.Client, services []types.ServiceConfig, mon *monitor) (observedState, []desiredService, error) {
	obs := observedState{Networks: map[string]bool{}, Volumes: map[string]bool{}, Images: map[string]string{}}
	snap, _ := mon.snapshot()
	for _, c := range snap {
		svc, known := d.project.Services[c.Service]
		obs.Containers = append(obs.Containers, observedContainer{
			ID: c.ID, Name: c.Name, Service: c.Service, Number: c.Number, State: c.State,
			Hash: c.Labels[labelConfigHash], ImageID: c.Labels[labelImage],
			Completed: known && c.State == target.StateExited && c.ExitCode == 0 && !willRestart(svc, 0),
		})
	}
	sort.Slice(obs.Containers, func(i, j int) bool { return target.NaturalLess(obs.Containers[i].Name, obs.Containers[j].Name) })

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		f := client.Filters{}
		f.Add("label", projectFilterLabel(d.project.Name))
		res, err := cli.NetworkList(gctx, client.NetworkListOptions{Filters: f})
		if err != nil {
			return fmt.Errorf("list networks of project %s: %w", d.project.Name, err)
		}
		for _, n := range res.Items {
			obs.Networks[n.Name] = true
		}
		return nil
	})
	g.Go(func() error {
		f := client.Filters{}
		f.Add("label", projectFilterLabel(d.project.Name))
		res, err := cli.VolumeList(gctx, client.VolumeListOptions{Filters: f})
		if err != nil {
			return fmt.Errorf("list volumes of project %s: %w", d.project.Name, err)
		}
		for _, v := range res.Items {
			obs.Volumes[v.Name] = true
		}
		return nil
	})
	var mu sync.Mutex
	refs := map[string]bool{}
	for _, s := range services {
		refs[imageRef(d.project.Name, s)] = true
	}
	for ref := range refs {
		g.Go(func() error {
			id, err := imageID(gctx, cli, ref)
			if err != nil {
				return err
			}
			mu.Lock()
			obs.Images[ref] = id
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return obs, nil, err
	}

	desired := make([]desiredService, 0, len(services))
	for _, s := range services {
		hash, err := configHash(s)
		if err != nil {
			return obs, nil, err
		}
		ref := imageRef(d.project.Name, s)
		binary := false
		for _, img := range d.spec.Images {
			binary = binary || img.Tag == ref
		}
		desired = append(desired, desiredService{
			Name: s.Name, Replicas: s.GetScale(), Hash: hash, Image: ref, ImageID: obs.Images[ref],
			Build: s.Build != nil, Binary: binary, Pull: s.PullPolicy, ContainerName: s.ContainerName,
		})
	}
	return obs, desired, nil
}

// executor runs a plan. It makes no decisions of its own.
type executor struct {
	d          *Deployment
	cli        *client.Client
	mon        *monitor
	progress   target.Progress
	apiVersion string

	// timeout bounds dependency waits and readiness together, from the
	// moment images are ready (builds and pulls are not counted).
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

func (x *executor) event(resource, service, action, detail string, done bool, err error) {
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
	if x.timeout > 0 {
		x.deadline = time.Now().Add(x.timeout)
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadlineCause(ctx, x.deadline, errWaitTimeout)
		defer cancel()
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
						x.event("network "+op.Name, "", "warning", "exists without this project's label; using it", true, nil)
						return nil
					}
				}
			}
			x.event("network "+op.Name, "", "creating", "", false, nil)
			_, err := x.cli.NetworkCreate(ctx, op.Name, client.NetworkCreateOptions{
				Driver: n.Driver, Options: n.DriverOpts, Internal: n.Internal, Attachable: n.Attachable, Labels: labels,
			})
			if err != nil && !isConflict(err) {
				return fmt.Errorf("create network %s: %w", op.Name, err)
			}
			x.event("network "+op.Name, "", "created", "", true, nil)
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
			x.event("volume "+op.Name, "", "creating", "", false, nil)
			if _, err := x.cli.VolumeCreate(ctx, client.VolumeCreateOptions{Name: op.Name, Driver: v.Driver, DriverOpts: v.DriverOpts, Labels: labels}); err != nil {
				return fmt.Errorf("create volume %s: %w", op.Name, err)
			}
			x.event("volume "+op.Name, "", "created", "", true, nil)
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
			x.event("container "+name, s.Name, "starting", "", false, nil)
			if _, err := x.cli.ContainerStart(gctx, id, client.ContainerStartOptions{}); err != nil {
				if gctx.Err() != nil {
					x.event("container "+name, s.Name, "cancelled", "", true, nil)
					return context.Cause(gctx)
				}
				err = fmt.Errorf("service %q: start %s: %w", s.Name, name, err)
				x.event("container "+name, s.Name, "start failed", "", true, err)
				return err
			}
			x.event("container "+name, s.Name, "started", "", true, nil)
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
			x.event("container "+name, s.Name, "restarting", strings.Join(because, ", ")+" was recreated (depends_on restart: true)", false, nil)
			if _, err := x.cli.ContainerRestart(gctx, id, client.ContainerRestartOptions{}); err != nil {
				return fmt.Errorf("service %q: restart %s: %w", s.Name, name, err)
			}
			x.event("container "+name, s.Name, "restarted", "", true, nil)
			return nil
		})
	}
	return g.Wait()
}

// waitExecutor is an executor for waiting on containers that already exist:
// every container of services (replicas 1..scale) is adopted as current.
// With restarting, each counts as ready only after a start newer than now.
func (d *Deployment) waitExecutor(cli *client.Client, mon *monitor, progress target.Progress, services []types.ServiceConfig, restarting bool) *executor {
	x := &executor{d: d, cli: cli, mon: mon, progress: progress, current: map[string][]string{}, fresh: map[string]int{}}
	snap, _ := mon.snapshot()
	for _, s := range services {
		for _, c := range snap {
			if c.Service != s.Name || (!restarting && (c.Number < 1 || c.Number > s.GetScale())) {
				continue
			}
			x.current[s.Name] = append(x.current[s.Name], c.ID)
			if restarting {
				x.fresh[c.ID] = c.Starts
			}
		}
	}
	return x
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

// createContainer creates replica n of s and connects its extra networks.
func (x *executor) createContainer(ctx context.Context, s types.ServiceConfig, n int, imageID string, anonymous map[string]string) (string, error) {
	hash, err := configHash(s)
	if err != nil {
		return "", err
	}
	spec, err := buildContainerSpec(x.d.project, s, specOptions{
		Number: n, Image: imageRef(x.d.project.Name, s), ImageID: imageID, Hash: hash,
		APIVersion: x.apiVersion, AnonymousVolumes: anonymous,
	})
	if err != nil {
		return "", err
	}
	x.event("container "+spec.Name, s.Name, "creating", "", false, nil)
	create := client.ContainerCreateOptions{Name: spec.Name, Config: spec.Config, HostConfig: spec.Host}
	if len(spec.Networks) > 0 {
		first := spec.Networks[0]
		create.NetworkingConfig = &network.NetworkingConfig{
			EndpointsConfig: map[string]*network.EndpointSettings{first.Network: first.Endpoint},
		}
	}
	res, err := x.cli.ContainerCreate(ctx, create)
	if err != nil && ctx.Err() != nil {
		return "", context.Cause(ctx)
	}
	if err != nil {
		err = fmt.Errorf("service %q: create %s: %w", s.Name, spec.Name, err)
		x.event("container "+spec.Name, s.Name, "create failed", "", true, err)
		return "", err
	}
	for _, extra := range spec.Networks[min(1, len(spec.Networks)):] {
		if _, err := x.cli.NetworkConnect(ctx, extra.Network, client.NetworkConnectOptions{Container: res.ID, EndpointConfig: extra.Endpoint}); err != nil {
			// A container that misses a network must not survive: it carries
			// the current config hash, and a later up would take it as done.
			_, _ = x.cli.ContainerRemove(context.WithoutCancel(ctx), res.ID, client.ContainerRemoveOptions{Force: true})
			return "", fmt.Errorf("service %q: connect %s to %s: %w", s.Name, spec.Name, extra.Network, err)
		}
	}
	x.mu.Lock()
	if x.names == nil {
		x.names = map[string]string{}
	}
	x.names[res.ID] = spec.Name
	x.mu.Unlock()
	x.event("container "+spec.Name, s.Name, "created", "", true, nil)
	return res.ID, nil
}

// recreateContainer replaces a container, keeping its anonymous volumes.
// The old one is stopped and renamed aside first and removed only once the
// new one exists, so a failed create puts the old one back.
func (x *executor) recreateContainer(ctx context.Context, s types.ServiceConfig, op operation, imageID string) (string, error) {
	old, err := x.cli.ContainerInspect(ctx, op.ContainerID, client.ContainerInspectOptions{})
	if err != nil {
		return "", fmt.Errorf("service %q: inspect %s: %w", s.Name, op.Name, err)
	}
	// Anonymous volumes have engine-made names; the new container gets the
	// old one's, target by target, so their data survives. That includes
	// the volumes an image's VOLUME made, which compose files do not list.
	mountedOtherwise := map[string]bool{}
	for _, v := range s.Volumes {
		if !(v.Type == types.VolumeTypeVolume && v.Source == "") {
			mountedOtherwise[v.Target] = true
		}
	}
	anonymous := map[string]string{}
	for _, m := range old.Container.Mounts {
		if m.Type == mount.TypeVolume && m.Name != "" && isAnonymousVolumeName(m.Name) && !mountedOtherwise[m.Destination] {
			anonymous[m.Destination] = m.Name
		}
	}
	wasRunning := old.Container.State != nil && old.Container.State.Running
	x.event("container "+op.Name, s.Name, "recreating", op.Reason, false, nil)
	if wasRunning {
		if _, err := x.cli.ContainerStop(ctx, op.ContainerID, client.ContainerStopOptions{}); err != nil {
			return "", fmt.Errorf("service %q: stop %s: %w", s.Name, op.Name, err)
		}
	}
	aside := op.ContainerID[:12] + "_" + op.Name
	if trimSlash(old.Container.Name) != aside { // already aside after an interrupted recreate
		if _, err := x.cli.ContainerRename(ctx, op.ContainerID, client.ContainerRenameOptions{NewName: aside}); err != nil {
			return "", fmt.Errorf("service %q: rename %s: %w", s.Name, op.Name, err)
		}
	}
	id, err := x.createContainer(ctx, s, op.Number, imageID, anonymous)
	if err != nil {
		// Put the old container back as it was.
		restoreCtx := context.WithoutCancel(ctx)
		_, _ = x.cli.ContainerRename(restoreCtx, op.ContainerID, client.ContainerRenameOptions{NewName: op.Name})
		if wasRunning {
			_, _ = x.cli.ContainerStart(restoreCtx, op.ContainerID, client.ContainerStartOptions{})
		}
		return "", err
	}
	if _, err := x.cli.ContainerRemove(ctx, op.ContainerID, client.ContainerRemoveOptions{Force: true}); err != nil && !isNotFound(err) {
		return id, fmt.Errorf("service %q: remove old %s: %w", s.Name, op.Name, err)
	}
	return id, nil
}

func (x *executor) removeContainer(ctx context.Context, op operation) error {
	x.event("container "+op.Name, op.Service, "removing", op.Reason, false, nil)
	if _, err := x.cli.ContainerStop(ctx, op.ContainerID, client.ContainerStopOptions{}); err != nil && !isNotFound(err) {
		return fmt.Errorf("stop %s: %w", op.Name, err)
	}
	if _, err := x.cli.ContainerRemove(ctx, op.ContainerID, client.ContainerRemoveOptions{Force: true}); err != nil && !isNotFound(err) {
		return fmt.Errorf("remove %s: %w", op.Name, err)
	}
	x.event("container "+op.Name, op.Service, "removed", "", true, nil)
	return nil
}

// waitDependencies blocks until every dependency of s meets its
// depends_on condition.
func (x *executor) waitDependencies(ctx context.Context, s types.ServiceConfig) error {
	for _, dep := range sortedKeys(s.DependsOn) {
		cfg := s.DependsOn[dep]
		ch, ok := x.started[dep]
		if !ok {
			continue // not selected and not required
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-ch:
		}
		depSvc := x.d.project.Services[dep]
		x.event("service "+s.Name, s.Name, "waiting", fmt.Sprintf("for %s (%s)", dep, cfg.Condition), false, nil)
		ids := x.ids(dep)
		err := x.waitConfirmed(ctx, ids, func(snap []containerState) (bool, error) {
			return conditionMet(cfg.Condition, depSvc, ids, x.freshIDs(), snap)
		})
		if err != nil && !cfg.Required && ctx.Err() == nil {
			// An optional dependency that fails is reported, not fatal.
			x.event("service "+s.Name, s.Name, "warning", fmt.Sprintf("optional dependency %s (%s) failed: %v; starting anyway", dep, cfg.Condition, err), true, nil)
			continue
		}
		if err != nil {
			return fmt.Errorf("service %q: waiting for %s (%s): %w", s.Name, dep, cfg.Condition, err)
		}
	}
	return nil
}

// waitConfirmed waits for cond, then checks with the engine that the
// running containers this run (re)started really are in the health the
// events said. After a restart, a probe that was in flight before it can
// report "healthy" after the new start event while the engine has reset
// health to "starting"; the event stream alone would end the wait too
// early. When the engine disagrees, the snapshot is corrected (unless a
// newer event arrived meanwhile) and the wait goes on.
func (x *executor) waitConfirmed(ctx context.Context, ids []string, cond func([]containerState) (bool, error)) error {
	for {
		if err := x.mon.waitFor(ctx, cond); err != nil {
			return err
		}
		fresh := x.freshIDs()
		snap, _ := x.mon.snapshot()
		seq := map[string]int{}
		for _, c := range snap {
			seq[c.ID] = c.Seq
		}
		confirmed := true
		for _, id := range ids {
			if _, ok := fresh[id]; !ok {
				continue
			}
			res, err := x.cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
			if err != nil {
				return fmt.Errorf("inspect %s: %w", x.containerName(id), err)
			}
			st := res.Container.State
			if st == nil || !st.Running || st.Health == nil || st.Health.Status == container.Healthy {
				continue // only a running container's health can be stale
			}
			if x.mon.correct(id, seq[id], target.State(st.Status), target.Health(st.Health.Status)) {
				confirmed = false
			}
		}
		if confirmed {
			return nil
		}
	}
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

// pending reports whether a container this run (re)started has not yet
// been seen starting.
func pending(fresh map[string]int, c containerState) bool {
	baseline, ok := fresh[c.ID]
	return ok && c.Starts <= baseline
}

// conditionMet evaluates a depends_on condition over the containers ids of a
// dependency. fresh containers were started by this run and count only once
// their start event has been seen.
func conditionMet(condition string, dep types.ServiceConfig, ids []string, fresh map[string]int, snap []containerState) (bool, error) {
	byID := map[string]containerState{}
	for _, c := range snap {
		byID[c.ID] = c
	}
	if len(ids) == 0 {
		return dep.GetScale() == 0, nil
	}
	for _, id := range ids {
		c, ok := byID[id]
		if !ok || pending(fresh, c) {
			return false, nil
		}
		switch condition {
		case types.ServiceConditionCompletedSuccessfully:
			if c.State != target.StateExited {
				return false, nil
			}
			if c.ExitCode != 0 {
				return false, fmt.Errorf("%s exited with code %d", c.Name, c.ExitCode)
			}
		case types.ServiceConditionHealthy:
			if c.State == target.StateExited && !willRestart(dep, c.ExitCode) {
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

// willRestart reports whether the engine restarts a container of s that
// exited with code.
func willRestart(s types.ServiceConfig, code int) bool {
	mode, _, _ := strings.Cut(s.Restart, ":")
	switch mode {
	case "always", "unless-stopped":
		return true
	case "on-failure":
		return code != 0
	}
	return false
}

// readiness says whether a service's containers are ready: running and
// healthy (or without healthcheck), or - for one-shot services - exited 0.
// It returns a final error when a container exited and will not be
// restarted.
func readiness(s types.ServiceConfig, ids []string, fresh map[string]int, snap []containerState) (bool, error) {
	byID := map[string]containerState{}
	for _, c := range snap {
		byID[c.ID] = c
	}
	if len(ids) < s.GetScale() {
		return false, nil
	}
	for _, id := range ids {
		c, ok := byID[id]
		if !ok || pending(fresh, c) {
			return false, nil
		}
		switch c.State {
		case target.StateRunning:
			if c.Health != target.HealthHealthy && c.Health != target.HealthNone {
				return false, nil
			}
		case target.StateExited:
			if willRestart(s, c.ExitCode) {
				return false, nil
			}
			if c.ExitCode != 0 {
				return false, fmt.Errorf("%s exited with code %d", c.Name, c.ExitCode)
			}
		default:
			return false, nil
		}
	}
	return true, nil
}

// waitReady waits for every service to be ready, up to timeout (zero:
// no limit). On failure it says which service, its state, the last
// healthcheck output and its last log lines.
func (x *executor) waitReady(ctx context.Context, services []types.ServiceConfig, timeout time.Duration) error {
	wctx, cancel := ctx, context.CancelFunc(func() {})
	switch {
	case !x.deadline.IsZero():
		wctx, cancel = context.WithDeadlineCause(ctx, x.deadline, errWaitTimeout)
	case timeout > 0:
		wctx, cancel = context.WithTimeoutCause(ctx, timeout, errWaitTimeout)
	}
	defer cancel()
	g, gctx := errgroup.WithContext(wctx)
	for _, s := range services {
		g.Go(func() error {
			ids := x.ids(s.Name)
			err := x.waitConfirmed(gctx, ids, func(snap []containerState) (bool, error) {
				return readiness(s, ids, x.freshIDs(), snap)
			})
			if err != nil {
				return &notReadyError{service: s.Name, cause: err}
			}
			x.event("service "+s.Name, s.Name, "ready", "", true, nil)
			return nil
		})
	}
	err := g.Wait()
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return context.Cause(ctx) // interrupted: nothing to diagnose
	}
	return x.diagnose(context.WithoutCancel(ctx), services, err, timeout)
}

var errWaitTimeout = errors.New("timed out")

type notReadyError struct {
	service string
	cause   error
}

func (e *notReadyError) Error() string { return fmt.Sprintf("service %q: %v", e.service, e.cause) }
func (e *notReadyError) Unwrap() error { return e.cause }

// diagnose explains why services are not ready.
func (x *executor) diagnose(ctx context.Context, services []types.ServiceConfig, cause error, timeout time.Duration) error {
	snap, _ := x.mon.snapshot()
	var b strings.Builder
	if errors.Is(cause, errWaitTimeout) {
		fmt.Fprintf(&b, "not ready after %s:", timeout)
	} else {
		fmt.Fprintf(&b, "%v:", cause)
	}
	for _, s := range services {
		ids := x.ids(s.Name)
		if ok, _ := readiness(s, ids, x.freshIDs(), snap); ok {
			continue
		}
		for _, id := range ids {
			fmt.Fprintf(&b, "\n%s", describeContainer(ctx, x.cli, id, 5))
		}
	}
	return errors.New(b.String())
}

// describeContainer says, for a person, what state a container is in, with
// its last healthcheck output and last log lines.
func describeContainer(ctx context.Context, cli *client.Client, id string, logLines int) string {
	res, err := cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return fmt.Sprintf("  %s: %v", id[:min(12, len(id))], err)
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
		fmt.Fprintf(&b, ", restarted %d times", c.RestartCount)
	}
	if lines := tailLogs(ctx, cli, id, logLines); len(lines) > 0 {
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

// isAnonymousVolumeName reports whether an engine volume name is one the
// engine made up (64 hex digits) rather than a named volume.
func isAnonymousVolumeName(name string) bool {
	if len(name) != 64 {
		return false
	}
	for _, c := range name {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// joinImageErrors reports every image that could not be had, one per line.
func joinImageErrors(errs []error) error {
	var lines []string
	for _, err := range errs {
		if err != nil {
			lines = append(lines, err.Error())
		}
	}
	sort.Strings(lines)
	switch len(lines) {
	case 0:
		return nil
	case 1:
		return errors.New(lines[0])
	}
	return fmt.Errorf("%d images could not be had:\n  %s", len(lines), strings.Join(lines, "\n  "))
}
