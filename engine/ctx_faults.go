package engine

import (
	"context"
	"fmt"
	"strings"
	"time"

	gostarlark "go.starlark.net/starlark"

	"github.com/opdeploy/opdeploy/starlark"
	"github.com/opdeploy/opdeploy/target"
)

// Faults in sequences (docs/faults.md). Each is a step; the runner
// remembers what it applied and heals it when the sequence ends — passed,
// failed, timed out or interrupted — unless the step said keep = True.

// healBound is how long healing at the end of a sequence may take, even
// after Ctrl-C or the run's timeout.
const healBound = time.Minute

// delay(service, delay, jitter = "0ms", to = None, keep = False)
func (r *runner) delay(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
	var (
		svc    string
		delay  = starlark.Duration{Min: 0}
		jitter = starlark.Duration{Min: 0}
		to     starlark.OptionalNames
		keep   bool
	)
	if err := gostarlark.UnpackArgs(b.Name(), args, kwargs, "service", &svc, "delay", &delay, "jitter?", &jitter, "to?", &to, "keep?", &keep); err != nil {
		return nil, err
	}
	return r.applyFault(t, b, target.FaultSpec{Kind: target.FaultDelay, Service: svc, Delay: delay.D, Jitter: jitter.D, To: to}, keep)
}

// loss(service, percent, to = None, keep = False)
func (r *runner) loss(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
	var (
		svc     string
		percent starlark.Percent
		to      starlark.OptionalNames
		keep    bool
	)
	if err := gostarlark.UnpackArgs(b.Name(), args, kwargs, "service", &svc, "percent", &percent, "to?", &to, "keep?", &keep); err != nil {
		return nil, err
	}
	return r.applyFault(t, b, target.FaultSpec{Kind: target.FaultLoss, Service: svc, Percent: float64(percent), To: to}, keep)
}

// partition(group, group, ..., keep = False): each group a name or a list.
func (r *runner) partition(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
	var keep bool
	if err := gostarlark.UnpackArgs(b.Name(), nil, kwargs, "keep?", &keep); err != nil {
		return nil, err
	}
	spec := target.FaultSpec{Kind: target.FaultPartition}
	for i, g := range args {
		var names starlark.Names
		if err := names.Unpack(g); err != nil {
			return nil, fmt.Errorf("%s: group %d: %v", b.Name(), i+1, err)
		}
		spec.Groups = append(spec.Groups, names)
	}
	return r.applyFault(t, b, spec, keep)
}

// block(from_service, to_service, keep = False)
func (r *runner) block(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
	var from, to string
	var keep bool
	if err := gostarlark.UnpackArgs(b.Name(), args, kwargs, "from_service", &from, "to_service", &to, "keep?", &keep); err != nil {
		return nil, err
	}
	return r.applyFault(t, b, target.FaultSpec{Kind: target.FaultBlock, Service: from, To: []string{to}}, keep)
}

// fill_disk(service, path, leave = "0", keep = False)
func (r *runner) fillDisk(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
	var (
		svc   string
		path  starlark.NonEmptyString
		leave starlark.Size
		keep  bool
	)
	if err := gostarlark.UnpackArgs(b.Name(), args, kwargs, "service", &svc, "path", &path, "leave?", &leave, "keep?", &keep); err != nil {
		return nil, err
	}
	return r.applyFault(t, b, target.FaultSpec{Kind: target.FaultFillDisk, Service: svc, Path: string(path), Leave: uint64(leave)}, keep)
}

// limit(service, cpus = None, memory = None, keep = False)
func (r *runner) limit(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
	var (
		svc    string
		cpus   gostarlark.Value = gostarlark.None
		memory starlark.Size
		keep   bool
	)
	if err := gostarlark.UnpackArgs(b.Name(), args, kwargs, "service", &svc, "cpus?", &cpus, "memory?", &memory, "keep?", &keep); err != nil {
		return nil, err
	}
	spec := target.FaultSpec{Kind: target.FaultLimit, Service: svc, Memory: uint64(memory)}
	if cpus != gostarlark.None {
		f, ok := gostarlark.AsFloat(cpus)
		if !ok {
			return nil, fmt.Errorf("%s: for parameter cpus: got %s, want a number", b.Name(), cpus.Type())
		}
		spec.CPUs = f
	}
	return r.applyFault(t, b, spec, keep)
}

// applyFault validates a fault (errors at the call's position, before any
// step), then applies it as a step.
func (r *runner) applyFault(t *gostarlark.Thread, b *gostarlark.Builtin, spec target.FaultSpec, keep bool) (gostarlark.Value, error) {
	f, err := r.subject.faulter(b.Name())
	if err != nil {
		return nil, err
	}
	if err := spec.Validate(r.subject.Target.Describe().ServiceNames()); err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	name := string(spec.Kind)
	brief := strings.TrimSpace(spec.Service + " " + spec.Brief())
	if spec.Kind == target.FaultPartition {
		brief = spec.Brief()
	}
	return r.step(t, name, brief, first(spec.Services()), 0, func(ctx context.Context) (gostarlark.Value, error) {
		faults, err := f.Apply(ctx, spec)
		if err != nil {
			return nil, err
		}
		if !keep && len(faults) > 0 {
			r.faultMu.Lock()
			r.applied = append(r.applied, faults[0].ID)
			r.faultMu.Unlock()
		}
		return gostarlark.None, nil
	})
}

// heal(service = None): remove the faults on the service (a name or a
// list), or all faults.
func (r *runner) heal(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
	var services starlark.OptionalNames
	if err := gostarlark.UnpackArgs(b.Name(), args, kwargs, "service?", &services); err != nil {
		return nil, err
	}
	f, err := r.subject.faulter(b.Name())
	if err != nil {
		return nil, err
	}
	return r.step(t, "heal", strings.Join(services, " "), first(services), 0, func(ctx context.Context) (gostarlark.Value, error) {
		_, err := f.Heal(ctx, target.HealOptions{Services: services})
		return nil, err
	})
}

// faults() -> list of struct(id, kind, service, container, arguments, since)
func (r *runner) faults(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
	if err := gostarlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	f, err := r.subject.faulter(b.Name())
	if err != nil {
		return nil, err
	}
	return r.step(t, "faults", "", "", 0, func(ctx context.Context) (gostarlark.Value, error) {
		list, err := f.Faults(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]gostarlark.Value, 0, len(list))
		for _, x := range list {
			out = append(out, structOf(gostarlark.StringDict{
				"id":        gostarlark.String(x.ID),
				"kind":      gostarlark.String(x.Kind),
				"service":   gostarlark.String(x.Service),
				"container": gostarlark.String(x.Container),
				"arguments": gostarlark.String(x.Args),
				"since":     gostarlark.String(x.Since.UTC().Format(time.RFC3339Nano)),
			}))
		}
		return gostarlark.NewList(out), nil
	})
}

// healApplied heals the faults the sequence applied without keep, when it
// ends however it ends: within healBound, even after Ctrl-C. It reports a
// step for it, so the output says what was mended.
func (r *runner) healApplied() error {
	r.faultMu.Lock()
	ids := r.applied
	r.applied = nil
	r.faultMu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	f, ok := r.subject.Target.(target.Faulter)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), healBound)
	defer cancel()
	start := time.Now()
	r.emit(StepEvent{Time: start, Kind: StepStart, Step: "heal", Args: "(the sequence's faults)"})
	_, err := f.Heal(ctx, target.HealOptions{IDs: ids})
	r.emit(StepEvent{Time: time.Now(), Kind: StepEnd, Step: "heal", Args: "(the sequence's faults)", Duration: time.Since(start), Err: err})
	if err != nil {
		return fmt.Errorf("healing the sequence's faults: %w", err)
	}
	return nil
}
