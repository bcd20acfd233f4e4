package local

import (
	"context"
	"fmt"
	"sync"

	"github.com/moby/moby/client"
	"golang.org/x/sync/errgroup"

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
				errs[i] = pullImage(ctx, x.cli, op.Name, op.Platform, op.ForServices, x.progress)
			}
		})
	}
	wg.Wait()
	return joinImageErrors(errs)
}

// runResource creates a network or a volume, recreates a network whose
// definition changed, or reports one it adopts or keeps.
func (x *executor) runResource(ctx context.Context, op operation) error {
	project := x.d.project
	switch op.Kind {
	case opAdoptNetwork, opKeepNetwork:
		x.event(target.Network(op.Name), "", target.ActionWarning, op.Reason, true, nil)
	case opKeepVolume:
		x.event(target.Volume(op.Name), "", target.ActionWarning, op.Reason, true, nil)
	case opCreateNetwork:
		x.event(target.Network(op.Name), "", target.ActionCreating, "", false, nil)
		if err := x.createNetwork(ctx, op); err != nil {
			return err
		}
		x.event(target.Network(op.Name), "", target.ActionCreated, "", true, nil)
	case opRecreateNetwork:
		return x.recreateNetwork(ctx, op)
	case opCreateVolume:
		v, ok := project.Volumes[op.Key]
		if !ok {
			return fmt.Errorf("%s: volume %q is not in the project", op, op.Key)
		}
		opts, err := volumeCreateOptions(project.Name, op.Key, v)
		if err != nil {
			return err
		}
		x.event(target.Volume(op.Name), "", target.ActionCreating, "", false, nil)
		if _, err := x.cli.VolumeCreate(ctx, opts); err != nil {
			return fmt.Errorf("create volume %s: %w", op.Name, err)
		}
		x.event(target.Volume(op.Name), "", target.ActionCreated, "", true, nil)
	default:
		return fmt.Errorf("%s: not a resource operation", op)
	}
	return nil
}

func (x *executor) createNetwork(ctx context.Context, op operation) error {
	n, ok := x.d.project.Networks[op.Key]
	if !ok {
		return fmt.Errorf("%s: network %q is not in the project", op, op.Key)
	}
	opts, err := networkCreateOptions(x.d.project.Name, op.Key, n)
	if err != nil {
		return err
	}
	if _, err := x.cli.NetworkCreate(ctx, op.Name, opts); err != nil && !isConflict(err) {
		return fmt.Errorf("create network %s: %w", op.Name, err)
	}
	return nil
}

// recreateNetwork replaces a network whose definition changed, as docker
// compose does: the attached containers are stopped (the engine removes
// no network with endpoints) and disconnected, the network is removed and
// created anew, and they are connected to it again with the endpoints up
// gives them. The plan starts the ones that were running.
func (x *executor) recreateNetwork(ctx context.Context, op operation) error {
	x.event(target.Network(op.Name), "", target.ActionRecreating, op.Reason, false, nil)
	fail := func(err error) error {
		err = fmt.Errorf("recreate network %s: %w", op.Name, err)
		x.event(target.Network(op.Name), "", target.ActionCreateFailed, "", true, err)
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, a := range op.Attached {
		g.Go(func() error {
			x.sem <- struct{}{}
			defer func() { <-x.sem }()
			if a.Running {
				if _, err := x.cli.ContainerStop(gctx, a.ContainerID, client.ContainerStopOptions{}); err != nil && !isNotFound(err) {
					return fmt.Errorf("stop %s: %w", a.Name, err)
				}
				x.event(target.Container(a.Name), a.Service.Name, target.ActionStopping, "stopped: network "+op.Name+" is recreated", true, nil)
			}
			if _, err := x.cli.NetworkDisconnect(gctx, op.Name, client.NetworkDisconnectOptions{Container: a.ContainerID, Force: true}); err != nil && !isNotFound(err) {
				return fmt.Errorf("disconnect %s: %w", a.Name, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return fail(err)
	}
	if err := removeNetwork(ctx, x.cli, op.Name); err != nil && !isNotFound(err) {
		return fail(err)
	}
	if err := x.createNetwork(ctx, op); err != nil {
		return fail(err)
	}
	for _, a := range op.Attached {
		if !a.Reconnect {
			continue
		}
		s := a.Service
		ep, err := endpointSettings(x.d.project, s, a.Number, op.Key, containerLinks(x.d.project, s))
		if err != nil {
			return fail(err)
		}
		if _, err := x.cli.NetworkConnect(ctx, op.Name, client.NetworkConnectOptions{Container: a.ContainerID, EndpointConfig: ep}); err != nil {
			return fail(fmt.Errorf("connect %s: %w", a.Name, err))
		}
	}
	x.event(target.Network(op.Name), "", target.ActionCreated, "recreated", true, nil)
	return nil
}
