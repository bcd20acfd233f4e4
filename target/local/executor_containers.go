package local

import (
	"context"
	"fmt"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/opdeploy/opdeploy/target"
	"golang.org/x/sync/errgroup"
)

// createContainer creates the replica op names, connects its extra
// networks and copies its secrets and configs into it. anonymous maps
// target paths to the anonymous volumes of the container it replaces.
// References to other services' containers resolve to the containers
// they have now (runService waited for them to exist).
func (x *executor) createContainer(ctx context.Context, op operation, anonymous map[string]string) (string, error) {
	s := resolveRefs(op.Service, x.ownerIDs())
	hash, err := configHash(s, filesDigest(x.d.project, s))
	if err != nil {
		return "", err
	}
	spec, err := buildContainerSpec(x.d.project, s, specOptions{
		Number: op.Number, Image: imageRef(x.d.project.Name, s), ImageID: op.ImageID, Hash: hash,
		APIVersion: x.apiVersion, AnonymousVolumes: anonymous,
	})
	if err != nil {
		return "", err
	}
	x.event(target.Container(spec.Name), s.Name, target.ActionCreating, "", false, nil)
	create := client.ContainerCreateOptions{Name: spec.Name, Config: spec.Config, HostConfig: spec.Host, Platform: spec.Platform}
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
		x.event(target.Container(spec.Name), s.Name, target.ActionCreateFailed, "", true, err)
		return "", err
	}
	for _, w := range res.Warnings {
		// The engine dropped a setting it cannot apply here (a memory swap
		// limit without swap accounting, ...): say so.
		x.event(target.Container(spec.Name), s.Name, target.ActionWarning, "the engine says: "+w, true, nil)
	}
	// A container that misses a network or a file must not survive: it
	// carries the current config hash, and a later up would take it as done.
	discard := func() {
		_, _ = x.cli.ContainerRemove(context.WithoutCancel(ctx), res.ID, client.ContainerRemoveOptions{Force: true})
	}
	for _, extra := range spec.Networks[min(1, len(spec.Networks)):] {
		if _, err := x.cli.NetworkConnect(ctx, extra.Network, client.NetworkConnectOptions{Container: res.ID, EndpointConfig: extra.Endpoint}); err != nil {
			discard()
			return "", fmt.Errorf("service %q: connect %s to %s: %w", s.Name, spec.Name, extra.Network, err)
		}
	}
	for _, f := range spec.Files {
		if err := copyFile(ctx, x.cli, res.ID, f); err != nil {
			discard()
			return "", fmt.Errorf("service %q: %s %s: copy into %s: %w", s.Name, f.Kind, f.Name, spec.Name, err)
		}
	}
	x.mu.Lock()
	x.names[res.ID] = spec.Name
	x.setReplicaLocked(s.Name, op.Number, res.ID)
	x.mu.Unlock()
	x.event(target.Container(spec.Name), s.Name, target.ActionCreated, "", true, nil)
	return res.ID, nil
}

// recreateContainer replaces a container, keeping its anonymous volumes.
// The old one is stopped and renamed aside first and removed only once the
// new one exists, so a failed create puts the old one back.
func (x *executor) recreateContainer(ctx context.Context, op operation) (string, error) {
	s := op.Service
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
	x.event(target.Container(op.Name), s.Name, target.ActionRecreating, op.Reason, false, nil)
	if wasRunning {
		if _, err := x.cli.ContainerStop(ctx, op.ContainerID, client.ContainerStopOptions{}); err != nil {
			return "", fmt.Errorf("service %q: stop %s: %w", s.Name, op.Name, err)
		}
	}
	aside := asideName(op.ContainerID, op.Name)
	if trimSlash(old.Container.Name) != aside { // already aside after an interrupted recreate
		if _, err := x.cli.ContainerRename(ctx, op.ContainerID, client.ContainerRenameOptions{NewName: aside}); err != nil {
			return "", fmt.Errorf("service %q: rename %s: %w", s.Name, op.Name, err)
		}
	}
	id, err := x.createContainer(ctx, op, anonymous)
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
	x.event(target.Container(op.Name), op.Service.Name, target.ActionRemoving, op.Reason, false, nil)
	if _, err := x.cli.ContainerStop(ctx, op.ContainerID, client.ContainerStopOptions{}); err != nil && !isNotFound(err) {
		return fmt.Errorf("stop %s: %w", op.Name, err)
	}
	if _, err := x.cli.ContainerRemove(ctx, op.ContainerID, client.ContainerRemoveOptions{Force: true}); err != nil && !isNotFound(err) {
		return fmt.Errorf("remove %s: %w", op.Name, err)
	}
	x.event(target.Container(op.Name), op.Service.Name, target.ActionRemoved, "", true, nil)
	return nil
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

// startContainers starts the service's containers that the plan created,
// recreated or starts, in parallel, and counts them as its current ones.
func (x *executor) startContainers(ctx context.Context, s types.ServiceConfig, ids []string) error {
	x.markFresh(ids)
	g, gctx := errgroup.WithContext(ctx)
	for _, id := range ids {
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
	x.current[s.Name] = append(x.current[s.Name], ids...)
	x.mu.Unlock()
	return err
}

// restartContainers restarts the containers the plan keeps but restarts
// (a dependency declared with restart: true was recreated), once the
// service's dependencies are ready.
func (x *executor) restartContainers(ctx context.Context, s types.ServiceConfig, ops []operation) error {
	ids := make([]string, len(ops))
	for i, op := range ops {
		ids[i] = op.ContainerID
	}
	x.markFresh(ids)
	g, gctx := errgroup.WithContext(ctx)
	for _, op := range ops {
		g.Go(func() error {
			x.event(target.Container(op.Name), s.Name, target.ActionRestarting, op.Reason, false, nil)
			if _, err := x.cli.ContainerRestart(gctx, op.ContainerID, client.ContainerRestartOptions{}); err != nil {
				return fmt.Errorf("service %q: restart %s: %w", s.Name, op.Name, err)
			}
			x.event(target.Container(op.Name), s.Name, target.ActionRestarted, "", true, nil)
			return nil
		})
	}
	err := g.Wait()
	x.mu.Lock()
	x.current[s.Name] = append(x.current[s.Name], ids...)
	x.mu.Unlock()
	return err
}

// repairContainer makes a running container whole again: unpauses it, or
// connects it to the networks it was cut off from, with the endpoint
// settings (aliases, addresses) it was created with.
func (x *executor) repairContainer(ctx context.Context, op operation) error {
	s := op.Service
	switch op.Kind {
	case opUnpauseContainer:
		x.event(target.Container(op.Name), s.Name, target.ActionStarting, "unpausing", false, nil)
		if _, err := x.cli.ContainerUnpause(ctx, op.ContainerID, client.ContainerUnpauseOptions{}); err != nil {
			return fmt.Errorf("service %q: unpause %s: %w", s.Name, op.Name, err)
		}
		x.event(target.Container(op.Name), s.Name, target.ActionStarted, "unpaused", true, nil)
	case opConnectContainer:
		spec, err := buildContainerSpec(x.d.project, s, specOptions{Number: op.Number, APIVersion: x.apiVersion})
		if err != nil {
			return err
		}
		want := map[string]bool{}
		for _, n := range op.Networks {
			want[n] = true
		}
		for _, n := range spec.Networks {
			if !want[n.Network] {
				continue
			}
			x.event(target.Container(op.Name), s.Name, target.ActionStarting, "connecting to "+n.Network, false, nil)
			if _, err := x.cli.NetworkConnect(ctx, n.Network, client.NetworkConnectOptions{Container: op.ContainerID, EndpointConfig: n.Endpoint}); err != nil {
				return fmt.Errorf("service %q: connect %s to %s: %w", s.Name, op.Name, n.Network, err)
			}
		}
		x.event(target.Container(op.Name), s.Name, target.ActionStarted, "connected to "+strings.Join(op.Networks, ", "), true, nil)
	}
	return nil
}
