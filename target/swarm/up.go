package swarm

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// Up deploys the services in dependency order — creating those the swarm
// lacks, updating those whose spec changed, leaving the rest alone — and
// waits until every task the deployment declares is ready.
//
// depends_on conditions are honoured here (docker stack deploy ignores
// them): a service is created only once the services it depends on have
// reached their condition.
func (d *Deployment) Up(ctx context.Context, opts target.UpOptions) error {
	progress := target.OrNoProgress(opts.Progress)
	start := time.Now()
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, opts.Timeout, &timeoutError{opts.Timeout})
		defer cancel()
	}
	services, err := d.selected(opts.Services, true)
	if err != nil {
		return err
	}
	for _, name := range services {
		for _, w := range d.warnings[name] {
			progress.Event(target.ProgressEvent{Time: time.Now(), Service: name, Action: target.ActionWarning, Detail: w})
		}
	}
	api, err := d.managerAPI(ctx)
	if err != nil {
		return err
	}
	ids, err := d.localImageIDs(ctx, services, progress, opts.DryRun)
	if err != nil {
		return err
	}
	obs, err := d.observe(ctx, api)
	if err != nil {
		return err
	}
	needs, err := d.imageNeeds(ctx, obs, ids)
	if err != nil {
		return err
	}
	plan := d.plan(obs, services, ids, needs, opts)
	// An engine older than a field drops it silently: say so, or refuse.
	for _, o := range plan {
		if o.kind != opCreate && o.kind != opUpdate {
			continue
		}
		warnings, err := checkEngineSupport(o.spec, api.ClientVersion())
		if err != nil {
			return err
		}
		for _, w := range warnings {
			progress.Event(target.ProgressEvent{Time: time.Now(), Service: o.service, Action: target.ActionWarning, Detail: w})
		}
	}
	if opts.DryRun {
		for _, op := range plan {
			progress.Event(target.ProgressEvent{Time: time.Now(), Action: target.ActionPlan, Detail: op.String()})
		}
		return nil
	}
	if err := d.loadImages(ctx, needs, progress); err != nil {
		return err
	}
	if err := d.ensureNetworks(ctx, api, services, progress); err != nil {
		return err
	}
	var updated []op
	announced := map[string]bool{} // services reported ready
	for _, op := range plan {
		if op.kind == opUpdate {
			updated = append(updated, op)
		}
		if op.kind == opRemoveOrphan {
			if err := removeService(ctx, api, op.existing, progress); err != nil {
				return err
			}
			continue
		}
		if err := d.waitDependencies(ctx, api, op.service, start, progress, announced); err != nil {
			return err
		}
		if err := d.apply(ctx, api, op, progress); err != nil {
			return err
		}
	}
	if opts.NoWait {
		return nil
	}
	// An updated service's old tasks run until the swarm replaces them:
	// ready only once its update completed.
	for _, o := range updated {
		if !o.rolls {
			continue
		}
		var before *time.Time
		if o.existing.UpdateStatus != nil {
			before = o.existing.UpdateStatus.StartedAt
		}
		if err := d.waitUpdate(ctx, api, o.service, o.existing.ID, before); err != nil {
			return err
		}
	}
	return d.waitReady(ctx, api, services, start, progress, announced)
}

// timeoutError is up's --timeout running out.
type timeoutError struct{ after time.Duration }

func (e *timeoutError) Error() string { return fmt.Sprintf("timed out after %s", e.after) }

// opKind is what up does to one service.
type opKind int

const (
	opKeep opKind = iota
	opCreate
	opUpdate
	opRemoveOrphan
)

// op is one decision of up's plan: the executor only carries it out.
type op struct {
	kind     opKind
	service  string            // compose service
	spec     swarm.ServiceSpec // what to create or update to
	existing swarm.Service     // for updates, keeps and orphans
	reason   string
	// rolls is set for an update that replaces the tasks (their template
	// changed, or --force-recreate): the swarm rolls them and up waits for
	// the update to complete. An update of the replica count or of service
	// labels alone leaves running tasks alone.
	rolls bool
}

func (o op) String() string {
	switch o.kind {
	case opCreate:
		return "create service " + o.spec.Name
	case opUpdate:
		return "update service " + o.spec.Name + " (" + o.reason + ")"
	case opRemoveOrphan:
		return "remove orphan service " + o.existing.Spec.Name
	}
	return "keep service " + o.spec.Name + " (up to date)"
}

// plan decides, for each service in dependency order, what up does.
func (d *Deployment) plan(obs observed, services []string, ids map[string]string, needs []imageNeed, opts target.UpOptions) []op {
	var ops []op
	if opts.RemoveOrphans {
		for _, o := range obs.orphans {
			ops = append(ops, op{kind: opRemoveOrphan, existing: o})
		}
	}
	for _, name := range services {
		spec := d.desiredSpec(name, ids)
		cur, exists := obs.services[name]
		o := op{service: name, spec: spec, existing: cur}
		switch {
		case !exists:
			o.kind = opCreate
		case opts.ForceRecreate:
			o.kind, o.reason, o.rolls = opUpdate, "--force-recreate", true
		case opts.NoRecreate:
			o.kind = opKeep
		case cur.Spec.Labels[labelTaskHash] != spec.Labels[labelTaskHash]:
			o.kind, o.reason, o.rolls = opUpdate, "its tasks' configuration changed", true
		case cur.Spec.Labels[labelConfigHash] != spec.Labels[labelConfigHash]:
			o.kind, o.reason = opUpdate, "its service settings changed"
		case !sameMode(cur.Spec.Mode, spec.Mode):
			o.kind, o.reason = opUpdate, "its replica count was changed behind opdeploy's back"
		case staleImageOnNode(obs, d.project.Services[name].Image, name, needs):
			o.kind, o.reason, o.rolls = opUpdate, "a task runs an older image than the one loaded into its node", true
		case endedForGood(cur, obs.tasks[name], declaredScale(d.project.Services[name])):
			o.kind, o.reason, o.rolls = opUpdate, "a task ended and its restart policy does not restart it", true
		default:
			o.kind = opKeep
		}
		ops = append(ops, o)
	}
	return ops
}

// desiredSpec is the spec opdeploy sends for a service, labelled with its
// hash; with images loaded, the local image ID is part of it, so that a
// rebuilt image rolls the service.
func (d *Deployment) desiredSpec(name string, ids map[string]string) swarm.ServiceSpec {
	spec := serviceSpec(d.project, d.project.Services[name])
	if id, ok := ids[d.project.Services[name].Image]; ok {
		if spec.TaskTemplate.ContainerSpec.Labels == nil {
			spec.TaskTemplate.ContainerSpec.Labels = map[string]string{}
		}
		spec.TaskTemplate.ContainerSpec.Labels[labelImageID] = id
	}
	spec.Labels[labelTaskHash] = jsonHash(spec.TaskTemplate)
	spec.Labels[labelConfigHash] = specHash(spec)
	return spec
}

// apply carries out one op.
func (d *Deployment) apply(ctx context.Context, api dockerapi.API, o op, progress target.Progress) error {
	res := target.ServiceOf(o.spec.Name)
	event := func(a target.Action, done bool, err error) {
		progress.Event(target.ProgressEvent{Time: time.Now(), Resource: res, Service: o.service, Action: a, Done: done, Err: err})
	}
	switch o.kind {
	case opCreate:
		event(target.ActionCreating, false, nil)
		if _, err := api.ServiceCreate(ctx, client.ServiceCreateOptions{Spec: o.spec}); err != nil {
			err = fmt.Errorf("service %q: create %s: %w", o.service, o.spec.Name, err)
			event(target.ActionCreateFailed, true, err)
			return err
		}
		event(target.ActionCreated, true, nil)
	case opUpdate:
		event(target.ActionUpdating, false, nil)
		spec := o.spec
		spec.TaskTemplate.ForceUpdate = o.existing.Spec.TaskTemplate.ForceUpdate
		if o.rolls {
			// Forced, so that the swarm rolls even when its own view of
			// the template did not change (--force-recreate).
			spec.TaskTemplate.ForceUpdate++
		}
		if _, err := api.ServiceUpdate(ctx, o.existing.ID, client.ServiceUpdateOptions{Version: o.existing.Version, Spec: spec}); err != nil {
			err = fmt.Errorf("service %q: update %s: %w", o.service, o.spec.Name, err)
			event(target.ActionUpdating, true, err)
			return err
		}
		event(target.ActionUpdated, true, nil)
	}
	return nil
}

// removeService removes a swarm service; its tasks stop on their nodes.
func removeService(ctx context.Context, api dockerapi.API, svc swarm.Service, progress target.Progress) error {
	res := target.ServiceOf(svc.Spec.Name)
	progress.Event(target.ProgressEvent{Time: time.Now(), Resource: res, Action: target.ActionRemoving})
	if _, err := api.ServiceRemove(ctx, svc.ID, client.ServiceRemoveOptions{}); err != nil && !isNotFound(err) {
		err = fmt.Errorf("remove service %s: %w", svc.Spec.Name, err)
		progress.Event(target.ProgressEvent{Time: time.Now(), Resource: res, Action: target.ActionRemoving, Done: true, Err: err})
		return err
	}
	progress.Event(target.ProgressEvent{Time: time.Now(), Resource: res, Action: target.ActionRemoved, Done: true})
	return nil
}

// sameMode says whether the swarm still runs the mode and replica count
// opdeploy sent.
func sameMode(a, b swarm.ServiceMode) bool {
	return jsonHash(a) == jsonHash(b)
}

// endedForGood says whether a replicated service whose restart policy is
// not "any" has fewer tasks the swarm means to run than it declares: the
// swarm will not replace those, so up forces them.
func endedForGood(svc swarm.Service, tasks []swarm.Task, declared int) bool {
	rp := svc.Spec.TaskTemplate.RestartPolicy
	if svc.Spec.Mode.Replicated == nil || rp == nil || rp.Condition == "" || rp.Condition == swarm.RestartPolicyConditionAny {
		return false
	}
	slots := map[int]bool{}
	for _, t := range tasks {
		if wantedUp(t) {
			slots[t.Slot] = true
		}
	}
	return len(slots) < declared
}

// staleImageOnNode says whether a task of the service runs on a node
// that holds another version of its image (or none): a node that was down
// while an up loaded a rebuilt image, then came back and restarted the
// task with the old one under the same tag. The load brings the new
// image; rolling the service makes the task run it.
func staleImageOnNode(obs observed, ref, name string, needs []imageNeed) bool {
	for _, t := range obs.tasks[name] {
		if !wantedUp(t) || t.Status.State != swarm.TaskStateRunning {
			continue
		}
		for _, nd := range needs {
			if nd.node.ID == t.NodeID && slices.Contains(nd.refs, ref) {
				return true
			}
		}
	}
	return false
}

// declaredScale is the replica count the compose file declares.
func declaredScale(s types.ServiceConfig) int { return s.GetScale() }
