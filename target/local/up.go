package local

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// maxParallel bounds concurrent container API calls. Starts are never
// serialized across services; on our 2-core engine, 50 starts took 9.9 s
// at 4, 9.2 s at 8, 8.7 s at 16 and 8.4 s at 50 in flight, so the bound
// mostly protects the daemon on large projects.
const maxParallel = 32

// Up converges the engine on the project: observe what exists, compute a
// plan, run it in dependency order, then (unless NoWait) wait for every
// service to be ready. opts.Timeout bounds all of it, from the lock and
// image builds to the last readiness wait.
func (d *Deployment) Up(ctx context.Context, opts target.UpOptions) error {
	var deadline time.Time
	if opts.Timeout > 0 && !opts.DryRun {
		deadline = time.Now().Add(opts.Timeout)
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadlineCause(ctx, deadline, errWaitTimeout)
		defer cancel()
	}
	err := d.up(ctx, opts, deadline)
	var diagnosed *diagnosis
	if err != nil && errors.Is(context.Cause(ctx), errWaitTimeout) && !errors.As(err, &diagnosed) {
		// The deadline passed outside the readiness waits (which explain
		// themselves): waiting for the lock, building, or a stalled call.
		return fmt.Errorf("up did not finish within --timeout %s: %w", opts.Timeout, err)
	}
	return err
}

func (d *Deployment) up(ctx context.Context, opts target.UpOptions, deadline time.Time) error {
	progress := target.OrNoProgress(opts.Progress)
	services, err := d.selectServices(opts.Services)
	if err != nil {
		return err
	}
	sess, err := d.open(ctx, progress, sessionNeeds{lock: !opts.DryRun, monitor: true})
	if err != nil {
		return err
	}
	defer sess.close()
	cli, mon := sess.cli, sess.mon
	if err := d.preflight(services, cli.ClientVersion(), progress); err != nil {
		return err
	}

	// Binary images first: the plan needs their IDs, and a build that
	// fails should leave nothing else changed.
	if !opts.DryRun {
		defer removeStaleBinaryImages(ctx, cli, d.spec.Images, progress)
	}
	if err := d.buildBinaryImages(ctx, cli, progress, opts.DryRun); err != nil {
		return err
	}

	p, obs, err := d.plan(ctx, cli, services, mon, opts, false)
	if err != nil {
		return err
	}
	if opts.DryRun {
		for _, line := range strings.Split(strings.TrimSpace(p.String()), "\n") {
			if line != "" {
				progress.Event(target.ProgressEvent{Time: time.Now(), Action: target.ActionPlan, Detail: line})
			}
		}
		return nil
	}
	for _, op := range p.Orphans {
		if op.Kind == opKeepOrphan {
			progress.Event(target.ProgressEvent{Time: time.Now(), Resource: target.Container(op.Name), Service: op.Service.Name, Action: target.ActionWarning,
				Detail: "orphan: service " + op.Service.Name + " is not in the project; --remove-orphans removes it"})
		}
	}

	x := newExecutor(d, cli, mon, progress)
	if len(p.Images) > 0 {
		// Images come first: on our machines a pull is what fails, and then
		// nothing else has been touched. Then plan again, against the IDs
		// the pulls and builds made: a container is recreated only if its
		// image really changed.
		if err := x.runImages(ctx, p.Images); err != nil {
			return err
		}
		if p, obs, err = d.plan(ctx, cli, services, mon, opts, true); err != nil {
			return err
		}
	}
	x.adopt(p, obs)
	x.timeout, x.deadline = opts.Timeout, deadline
	if err := x.run(ctx, p, services); err != nil {
		if errors.Is(err, errWaitTimeout) || errors.Is(context.Cause(ctx), errWaitTimeout) {
			return x.diagnose(ctx, services, err, opts.Timeout)
		}
		return err
	}
	if opts.NoWait {
		return nil
	}
	return x.waitReady(ctx, services, opts.Timeout)
}

// plan observes the project and reconciles it with the services. With
// imagesDone, the plan's pulls and builds have run: it plans containers
// only, against the images they made.
func (d *Deployment) plan(ctx context.Context, cli dockerapi.API, services []types.ServiceConfig, mon *monitor, opts target.UpOptions, imagesDone bool) (*plan, observedState, error) {
	networks, volumes, err := d.resources(services)
	if err != nil {
		return nil, observedState{}, err
	}
	obs, desired, err := d.observe(ctx, cli, services, networks, mon)
	if err != nil {
		return nil, obs, err
	}
	known := map[string]bool{}
	for _, s := range d.project.AllServices() {
		known[s.Name] = true
	}
	p := reconcile(d.project.Name, networks, volumes, desired, known, obs, reconcileOptions{
		ForceRecreate: opts.ForceRecreate, NoRecreate: opts.NoRecreate,
		RemoveOrphans: opts.RemoveOrphans, Build: opts.Build, ImagesDone: imagesDone,
	})
	pending := map[string]bool{}
	for _, op := range p.Images {
		pending[op.Name] = true
	}
	if err := checkImages(desired, obs, pending); err != nil {
		return nil, obs, err
	}
	return p, obs, nil
}
