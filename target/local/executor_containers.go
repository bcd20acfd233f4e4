package local

import (
	"context"
	"fmt"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/opdeploy/opdeploy/target"
)

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
	x.event(target.Container(spec.Name), s.Name, target.ActionCreating, "", false, nil)
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
		x.event(target.Container(spec.Name), s.Name, target.ActionCreateFailed, "", true, err)
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
	x.event(target.Container(spec.Name), s.Name, target.ActionCreated, "", true, nil)
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
	x.event(target.Container(op.Name), op.Service, target.ActionRemoving, op.Reason, false, nil)
	if _, err := x.cli.ContainerStop(ctx, op.ContainerID, client.ContainerStopOptions{}); err != nil && !isNotFound(err) {
		return fmt.Errorf("stop %s: %w", op.Name, err)
	}
	if _, err := x.cli.ContainerRemove(ctx, op.ContainerID, client.ContainerRemoveOptions{Force: true}); err != nil && !isNotFound(err) {
		return fmt.Errorf("remove %s: %w", op.Name, err)
	}
	x.event(target.Container(op.Name), op.Service, target.ActionRemoved, "", true, nil)
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
