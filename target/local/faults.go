package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/moby/moby/client"
	"golang.org/x/sync/errgroup"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
	"github.com/opdeploy/opdeploy/target/local/faulthelper"
)

var _ target.Faulter = (*Deployment)(nil)

// Apply puts a fault in force on every running container of the services
// it names, and records it on the engine (faults_records.go). When one
// container fails, what was already applied is removed again.
func (d *Deployment) Apply(ctx context.Context, spec target.FaultSpec) ([]target.Fault, error) {
	if err := spec.Validate(d.Describe().ServiceNames()); err != nil {
		return nil, err
	}
	cli, err := d.engine.Client(ctx)
	if err != nil {
		return nil, err
	}
	byService, err := d.faultTargets(ctx, cli, spec.Services())
	if err != nil {
		return nil, err
	}
	image, err := faultHelperImage(ctx, cli)
	if err != nil {
		return nil, err
	}
	id := newFaultID()
	base := faultRecord{Fault: target.Fault{ID: id, Kind: spec.Kind, Args: spec.Brief(), Since: time.Now()}}
	var (
		mu   sync.Mutex
		recs []faultRecord
	)
	record := func(r faultRecord) {
		mu.Lock()
		recs = append(recs, r)
		mu.Unlock()
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxParallel)
	if isNetworkFault(spec.Kind) {
		for _, p := range planNetworkFault(id, spec, byService) {
			g.Go(func() error {
				r := base
				r.Service, r.Container, r.TargetID, r.TargetStarted, r.Chain = p.Target.Service, p.Target.Name, p.Target.ID, p.Target.StartedAt, p.Spec.Chain
				r.RecordName = helperName(d.project.Name, id, p.Target.Name)
				rid, err := createRecord(gctx, cli, image, r.RecordName, r.labels(d.project.Name), p.Target.ID, &p.Spec)
				if err != nil {
					return err
				}
				r.RecordID = rid
				record(r)
				if err := runHelper(gctx, cli, rid, r.RecordName, faulthelper.ReadyLine); err != nil {
					return fmt.Errorf("%s on %s: %w", spec.Kind, p.Target.Name, err)
				}
				return nil
			})
		}
	} else {
		for _, t := range byService[spec.Service] {
			g.Go(func() error {
				r := base
				r.Service, r.Container, r.TargetID = t.Service, t.Name, t.ID
				r.RecordName = helperName(d.project.Name, id, t.Name)
				if err := d.applyLocal(gctx, cli, spec, t, &r); err != nil {
					return fmt.Errorf("%s on %s: %w", spec.Kind, t.Name, err)
				}
				var hold *faulthelper.Spec
				if spec.Kind == target.FaultFillDisk {
					hold = &faulthelper.Spec{Hold: true}
				}
				rid, err := createRecord(gctx, cli, image, r.RecordName, r.labels(d.project.Name), t.ID, hold)
				if err != nil {
					// Not recorded: nobody could heal it later, so undo it now.
					return errors.Join(err, d.healOne(context.WithoutCancel(gctx), cli, r, targetNow{Exists: true, Running: true, Pid: t.Pid}))
				}
				r.RecordID = rid
				record(r)
				if hold != nil {
					r.Running = true
					return runHelper(gctx, cli, rid, r.RecordName, faulthelper.ReadyLine)
				}
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		// Undo by the fault's ID, not only what this process recorded: a
		// create cut short by Ctrl-C may still have made its container.
		if _, herr := d.Heal(context.WithoutCancel(ctx), target.HealOptions{IDs: []string{id}}); herr != nil {
			err = fmt.Errorf("%w; undoing it: %v", err, herr)
		}
		return nil, err
	}
	out := make([]target.Fault, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.Fault)
	}
	sortFaults(out)
	return out, nil
}

// applyLocal applies the faults opdeploy makes itself, not a helper.
func (d *Deployment) applyLocal(ctx context.Context, cli dockerapi.API, spec target.FaultSpec, t faultTarget, r *faultRecord) error {
	switch spec.Kind {
	case target.FaultFillDisk:
		res, err := cli.ContainerInspect(ctx, t.ID, client.ContainerInspectOptions{})
		if err != nil {
			return err
		}
		filler, size, err := fillDisk(ctx, t.Pid, spec.Path, spec.Leave, r.ID)
		if err != nil {
			return err
		}
		var mounts []mountPoint
		for _, m := range res.Container.Mounts {
			mounts = append(mounts, mountPoint{Source: m.Source, Destination: m.Destination})
		}
		r.Path, r.HostPath = filler, hostPathOf(mounts, filler)
		r.Args = fmt.Sprintf("%s (%d bytes)", r.Args, size)
		return nil
	case target.FaultLimit:
		return d.setLimits(ctx, cli, t.ID, spec.CPUs, spec.Memory)
	}
	return fmt.Errorf("unknown fault kind %q", spec.Kind)
}

// faultTargets finds the running containers of the services and their
// addresses on the project's networks.
func (d *Deployment) faultTargets(ctx context.Context, cli dockerapi.API, services []string) (map[string][]faultTarget, error) {
	list, err := listProjectContainers(ctx, cli, d.project.Name)
	if err != nil {
		return nil, err
	}
	wanted := map[string]bool{}
	for _, s := range services {
		wanted[s] = true
	}
	out := map[string][]faultTarget{}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	for _, c := range list {
		svc := c.Labels[labelService]
		if !wanted[svc] || c.State != "running" {
			continue
		}
		g.Go(func() error {
			res, err := cli.ContainerInspect(gctx, c.ID, client.ContainerInspectOptions{})
			if err != nil {
				return err
			}
			t := faultTarget{ID: c.ID, Name: containerDisplayName(c), Service: svc, StartedAt: res.Container.State.StartedAt, Pid: res.Container.State.Pid}
			if ns := res.Container.NetworkSettings; ns != nil {
				for _, ep := range ns.Networks {
					if ep != nil && ep.IPAddress.IsValid() && ep.IPAddress.Is4() {
						t.Addrs = append(t.Addrs, ep.IPAddress.String())
					}
				}
			}
			sort.Slice(t.Addrs, func(i, j int) bool {
				a, _ := netip.ParseAddr(t.Addrs[i])
				b, _ := netip.ParseAddr(t.Addrs[j])
				return a.Less(b)
			})
			mu.Lock()
			out[svc] = append(out[svc], t)
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for _, s := range services {
		if len(out[s]) == 0 {
			return nil, fmt.Errorf("service %q has no running container in project %q", s, d.project.Name)
		}
		sort.Slice(out[s], func(i, j int) bool { return target.NaturalLess(out[s][i].Name, out[s][j].Name) })
	}
	return out, nil
}

// Faults lists the faults in force, oldest first. Records whose fault is
// no longer in force (inForce says when) are not listed; heal and down
// remove them.
func (d *Deployment) Faults(ctx context.Context) ([]target.Fault, error) {
	cli, err := d.engine.Client(ctx)
	if err != nil {
		return nil, err
	}
	recs, err := listFaultRecords(ctx, cli, d.project.Name)
	if err != nil || len(recs) == 0 {
		return nil, err
	}
	now, err := inspectTargets(ctx, cli, recs)
	if err != nil {
		return nil, err
	}
	var out []target.Fault
	for _, r := range recs {
		if ok, _ := inForce(r, now[r.TargetID]); ok {
			out = append(out, r.Fault)
		}
	}
	return out, nil
}

// Heal removes the faults on the services (all when none are named), and
// the records of faults no longer in force. It returns the faults it
// removed that were in force.
func (d *Deployment) Heal(ctx context.Context, opts target.HealOptions) ([]target.Fault, error) {
	if _, err := d.namedServices(opts.Services); err != nil {
		return nil, err
	}
	cli, err := d.engine.Client(ctx)
	if err != nil {
		return nil, err
	}
	recs, err := listFaultRecords(ctx, cli, d.project.Name)
	if err != nil {
		return nil, err
	}
	services, ids := map[string]bool{}, map[string]bool{}
	for _, s := range opts.Services {
		services[s] = true
	}
	for _, id := range opts.IDs {
		ids[id] = true
	}
	var chosen []faultRecord
	for _, r := range recs {
		if (len(services) == 0 || services[r.Service]) && (len(ids) == 0 || ids[r.ID]) {
			chosen = append(chosen, r)
		}
	}
	return d.heal(ctx, cli, chosen)
}

// heal removes each record's fault and then the record. A fault that could
// not be removed keeps its record, and the error names the container and
// what remains.
func (d *Deployment) heal(ctx context.Context, cli dockerapi.API, recs []faultRecord) ([]target.Fault, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	now, err := inspectTargets(ctx, cli, recs)
	if err != nil {
		return nil, err
	}
	var (
		mu     sync.Mutex
		healed []target.Fault
		errs   []error
	)
	var wg sync.WaitGroup
	sem := make(chan struct{}, maxParallel)
	for _, r := range recs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			t := now[r.TargetID]
			active, _ := inForce(r, t)
			err := d.healOne(ctx, cli, r, t)
			if err == nil && r.RecordID != "" {
				if _, rerr := cli.ContainerRemove(ctx, r.RecordID, client.ContainerRemoveOptions{Force: true}); rerr != nil && !isNotFound(rerr) {
					err = fmt.Errorf("remove fault record %s: %w", r.RecordName, rerr)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("heal %s on %s: %w", r.Kind, r.Container, err))
			} else if active {
				healed = append(healed, r.Fault)
			}
		}()
	}
	wg.Wait()
	sortFaults(healed)
	return healed, errors.Join(errs...)
}

// healOne removes one record's fault from its container.
func (d *Deployment) healOne(ctx context.Context, cli dockerapi.API, r faultRecord, t targetNow) error {
	switch {
	case isNetworkFault(r.Kind):
		if r.Running {
			return stopHelper(ctx, cli, r.RecordID, r.RecordName)
		}
		if r.NeverStarted || !t.Running || t.StartedAt != r.TargetStarted {
			return nil // nothing was added, or the network namespace and its rules are gone
		}
		// The helper died: rules it added may remain. A helper that only
		// clears them removes them.
		return d.clearRules(ctx, cli, r)
	case r.Kind == target.FaultFillDisk:
		err := d.removeFillerOf(ctx, cli, r, t)
		if err == nil && r.Running {
			err = stopHelper(ctx, cli, r.RecordID, r.RecordName)
		}
		return err
	case r.Kind == target.FaultLimit:
		if !t.Exists {
			return nil
		}
		return d.restoreLimits(ctx, cli, r.TargetID, r.Service)
	}
	return fmt.Errorf("unknown fault kind %q", r.Kind)
}

// clearRules runs a short-lived helper that removes a chain left behind.
func (d *Deployment) clearRules(ctx context.Context, cli dockerapi.API, r faultRecord) error {
	image, err := faultHelperImage(ctx, cli)
	if err != nil {
		return err
	}
	name := r.RecordName + "-clear"
	spec := faulthelper.Spec{Chain: r.Chain, Clear: true}
	id, err := createRecord(ctx, cli, image, name, map[string]string{labelFaultProject: d.project.Name}, r.TargetID, &spec)
	if err != nil {
		return err
	}
	defer cli.ContainerRemove(context.WithoutCancel(ctx), id, client.ContainerRemoveOptions{Force: true})
	if err := runHelper(ctx, cli, id, name, faulthelper.HealedLine); err != nil {
		return fmt.Errorf("rules of chain %s may remain in %s: %w", r.Chain, r.Container, err)
	}
	return nil
}

func newFaultID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func sortFaults(fs []target.Fault) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if !a.Since.Equal(b.Since) {
			return a.Since.Before(b.Since)
		}
		if a.Service != b.Service {
			return target.NaturalLess(a.Service, b.Service)
		}
		return target.NaturalLess(a.Container, b.Container)
	})
}

// removeFaults is down's first step: every fault of the project is healed
// and its record removed. What could not be healed is a warning (down goes
// on: the containers it acted on are about to go), and its record is
// removed all the same.
func (d *Deployment) removeFaults(ctx context.Context, cli dockerapi.API, progress target.Progress) error {
	recs, err := listFaultRecords(ctx, cli, d.project.Name)
	if err != nil || len(recs) == 0 {
		return err
	}
	healed, err := d.heal(ctx, cli, recs)
	for _, f := range healed {
		progress.Event(target.ProgressEvent{Time: time.Now(), Resource: target.Container(f.Container), Service: f.Service, Action: target.ActionRemoved, Detail: "fault " + string(f.Kind) + " healed", Done: true})
	}
	if err != nil {
		progress.Event(target.ProgressEvent{Time: time.Now(), Resource: target.ProjectNamed(d.project.Name), Action: target.ActionWarning, Detail: err.Error(), Done: true})
	}
	for _, r := range recs {
		if _, err := cli.ContainerRemove(ctx, r.RecordID, client.ContainerRemoveOptions{Force: true}); err != nil && !isNotFound(err) {
			return fmt.Errorf("remove fault record %s: %w", r.RecordName, err)
		}
	}
	return nil
}
