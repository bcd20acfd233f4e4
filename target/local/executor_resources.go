package local

import (
	"context"
	"fmt"
	"sync"

	"github.com/moby/moby/client"

	"github.com/opdeploy/opdeploy/target"
)

// runImages pulls and builds. Every image is tried, so that one failure
// does not hide the others: a subject whose images cannot be pulled hears
// of all of them at once.
func (x *executor) runImages(ctx context.Context, ops []operation) error {
	errs := make([]error, len(ops))
	var wg sync.WaitGroup
	for i, op := range ops {
		wg.Go(func() {
			switch op.Kind {
			case opBuildImage:
				errs[i] = buildImage(ctx, x.cli, op.Name, *op.BuildFrom, x.progress)
			case opPullImage:
				errs[i] = pullImage(ctx, x.cli, op.Name, op.ForServices, x.progress)
			}
		})
	}
	wg.Wait()
	return joinImageErrors(errs)
}

// runResource creates a network or a volume, or reports one it adopts.
func (x *executor) runResource(ctx context.Context, op operation) error {
	project := x.d.project
	labels := map[string]string{labelProject: project.Name, labelVersion: composeVersion}
	switch op.Kind {
	case opAdoptNetwork:
		x.event(target.Network(op.Name), "", target.ActionWarning, op.Reason, true, nil)
		return nil
	case opCreateNetwork:
		n, ok := project.Networks[op.Key]
		if !ok {
			return fmt.Errorf("%s: network %q is not in the project", op, op.Key)
		}
		labels[labelNetwork] = op.Key
		for k, v := range n.Labels {
			labels[k] = v
		}
		x.event(target.Network(op.Name), "", target.ActionCreating, "", false, nil)
		_, err := x.cli.NetworkCreate(ctx, op.Name, client.NetworkCreateOptions{
			Driver: n.Driver, Options: n.DriverOpts, Internal: n.Internal, Attachable: n.Attachable, Labels: labels,
		})
		if err != nil && !isConflict(err) {
			return fmt.Errorf("create network %s: %w", op.Name, err)
		}
		x.event(target.Network(op.Name), "", target.ActionCreated, "", true, nil)
	case opCreateVolume:
		v, ok := project.Volumes[op.Key]
		if !ok {
			return fmt.Errorf("%s: volume %q is not in the project", op, op.Key)
		}
		labels[labelVolume] = op.Key
		for k, val := range v.Labels {
			labels[k] = val
		}
		x.event(target.Volume(op.Name), "", target.ActionCreating, "", false, nil)
		if _, err := x.cli.VolumeCreate(ctx, client.VolumeCreateOptions{Name: op.Name, Driver: v.Driver, DriverOpts: v.DriverOpts, Labels: labels}); err != nil {
			return fmt.Errorf("create volume %s: %w", op.Name, err)
		}
		x.event(target.Volume(op.Name), "", target.ActionCreated, "", true, nil)
	default:
		return fmt.Errorf("%s: not a resource operation", op)
	}
	return nil
}
