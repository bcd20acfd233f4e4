package local

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/moby/moby/client"
	"golang.org/x/sync/errgroup"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// Down stops and removes the project's containers in reverse dependency
// order (a service stops only after every service that depends on it), in
// parallel otherwise; then its networks, and its named volumes only with
// Volumes. It works from labels alone: the order comes from each
// container's depends_on label, so a changed compose file does not matter.
func (d *Deployment) Down(ctx context.Context, opts target.DownOptions) error {
	progress := target.OrNoProgress(opts.Progress)
	sess, err := d.open(ctx, progress, sessionNeeds{lock: true})
	if err != nil {
		return err
	}
	defer sess.close()
	cli := sess.cli
	event := func(resource target.Resource, service string, action target.Action, detail string, done bool, err error) {
		progress.Event(target.ProgressEvent{Time: time.Now(), Resource: resource, Service: service, Action: action, Detail: detail, Done: done, Err: err})
	}

	// Fault helpers share the network namespaces of the project's
	// containers, and fillers live on its volumes: they go first.
	if err := d.removeFaults(ctx, cli, progress); err != nil {
		return err
	}
	list, err := listProjectContainers(ctx, cli, d.project.Name)
	if err != nil {
		return err
	}
	known := map[string]bool{}
	for _, s := range d.project.AllServices() {
		known[s.Name] = true
	}
	var keep []container.Summary
	byService := map[string][]container.Summary{}
	dependents := map[string][]string{} // service -> services that depend on it
	for _, c := range list {
		svc := c.Labels[labelService]
		if !known[svc] && !opts.RemoveOrphans {
			keep = append(keep, c)
			continue
		}
		if _, seen := byService[svc]; !seen {
			for _, dep := range parseDependsOnLabel(c.Labels[labelDependsOn]) {
				dependents[dep] = append(dependents[dep], svc)
			}
		}
		byService[svc] = append(byService[svc], c)
	}
	for _, c := range keep {
		event(target.Container(containerDisplayName(c)), c.Labels[labelService], target.ActionWarning, "orphan kept: its service is not in the project; --remove-orphans removes it", true, nil)
	}

	var stopTimeout *int
	if opts.Timeout > 0 {
		secs := int(opts.Timeout.Seconds())
		stopTimeout = &secs
	}
	// Anonymous volumes the containers mount: a recreated container
	// mounts its predecessor's by name, and the engine then does not count
	// it as the container's own, so removing the container with its
	// volumes leaves it. down -v removes them itself.
	var anonymous []string
	if opts.Volumes {
		for _, cs := range byService {
			for _, c := range cs {
				for _, m := range c.Mounts {
					if m.Type == mount.TypeVolume && isAnonymousVolumeName(m.Name) {
						anonymous = append(anonymous, m.Name)
					}
				}
			}
		}
	}
	sem := make(chan struct{}, maxParallel)
	for _, wave := range stopWaves(byService, dependents) {
		g, gctx := errgroup.WithContext(ctx)
		for _, svc := range wave {
			for _, c := range byService[svc] {
				g.Go(func() error {
					sem <- struct{}{}
					defer func() { <-sem }()
					name := containerDisplayName(c)
					if c.State == container.StateRunning || c.State == container.StatePaused || c.State == container.StateRestarting {
						event(target.Container(name), svc, target.ActionStopping, "", false, nil)
						if _, err := cli.ContainerStop(gctx, c.ID, client.ContainerStopOptions{Timeout: stopTimeout}); err != nil && !isNotFound(err) {
							return fmt.Errorf("stop %s: %w", name, err)
						}
					}
					if _, err := cli.ContainerRemove(gctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: opts.Volumes}); err != nil && !isNotFound(err) {
						return fmt.Errorf("remove %s: %w", name, err)
					}
					event(target.Container(name), svc, target.ActionRemoved, "", true, nil)
					return nil
				})
			}
		}
		if err := g.Wait(); err != nil {
			return err
		}
	}

	f := client.Filters{}
	f.Add("label", projectFilterLabel(d.project.Name))
	nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return err
	}
	for _, n := range nets.Items {
		if err := removeNetwork(ctx, cli, n.ID); err != nil && !isNotFound(err) {
			if !strings.Contains(err.Error(), "active endpoints") {
				return fmt.Errorf("remove network %s: %w", n.Name, err)
			}
			reason, err := networkKeptReason(ctx, cli, n.ID, keep)
			if err != nil {
				return err
			}
			event(target.Network(n.Name), "", target.ActionWarning, reason, true, nil)
			continue
		}
		event(target.Network(n.Name), "", target.ActionRemoved, "", true, nil)
	}
	for _, name := range anonymous {
		if _, err := cli.VolumeRemove(ctx, name, client.VolumeRemoveOptions{}); err != nil && !isNotFound(err) {
			event(target.Volume(dockerapi.ShortID(name)), "", target.ActionWarning, "anonymous volume kept: "+err.Error(), true, nil)
			continue
		}
		event(target.Volume(dockerapi.ShortID(name)), "", target.ActionRemoved, "", true, nil)
	}
	if opts.Volumes {
		vols, err := cli.VolumeList(ctx, client.VolumeListOptions{Filters: f})
		if err != nil {
			return err
		}
		for _, v := range vols.Items {
			if _, err := cli.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{}); err != nil && !isNotFound(err) {
				return fmt.Errorf("remove volume %s: %w", v.Name, err)
			}
			event(target.Volume(v.Name), "", target.ActionRemoved, "", true, nil)
		}
	}
	return nil
}

func containerDisplayName(c container.Summary) string {
	if len(c.Names) > 0 {
		return trimSlash(c.Names[0])
	}
	return c.ID[:12]
}

func trimSlash(s string) string {
	if len(s) > 0 && s[0] == '/' {
		return s[1:]
	}
	return s
}

// removeNetwork removes a network. Engine 20.10 releases a removed
// container's endpoint asynchronously, so right after a large down the
// network can still report "active endpoints" for a moment; that one error
// is retried for up to two seconds. There is no event to wait for instead.
func removeNetwork(ctx context.Context, cli dockerapi.API, id string) error {
	var err error
	for wait := 20 * time.Millisecond; ; wait *= 2 {
		_, err = cli.NetworkRemove(ctx, id, client.NetworkRemoveOptions{})
		if err == nil || !strings.Contains(err.Error(), "active endpoints") || wait > time.Second {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
}

// stopWaves orders services for stopping: each wave holds the services all
// of whose dependents are in earlier waves, so dependents stop first and
// independent services stop together. Services in a dependency cycle (the
// depends_on labels of containers made at different times can form one)
// stop together in a last wave instead of waiting on each other forever.
func stopWaves(services map[string][]container.Summary, dependents map[string][]string) [][]string {
	remaining := map[string]bool{}
	for svc := range services {
		remaining[svc] = true
	}
	var waves [][]string
	for len(remaining) > 0 {
		var wave []string
		for svc := range remaining {
			ready := true
			for _, dep := range dependents[svc] {
				if dep != svc && remaining[dep] {
					ready = false
					break
				}
			}
			if ready {
				wave = append(wave, svc)
			}
		}
		if len(wave) == 0 { // a cycle: stop what is left together
			for svc := range remaining {
				wave = append(wave, svc)
			}
		}
		target.SortNatural(wave)
		for _, svc := range wave {
			delete(remaining, svc)
		}
		waves = append(waves, wave)
	}
	return waves
}

// networkKeptReason says why a network the engine would not remove is
// kept: the orphans down kept that are still attached to it, or, when no
// container is, a stale engine endpoint.
func networkKeptReason(ctx context.Context, cli dockerapi.API, id string, kept []container.Summary) (string, error) {
	res, err := cli.NetworkInspect(ctx, id, client.NetworkInspectOptions{})
	if err != nil {
		return "", fmt.Errorf("inspect network %s: %w", dockerapi.ShortID(id), err)
	}
	orphan := map[string]string{}
	for _, c := range kept {
		orphan[c.ID] = containerDisplayName(c)
	}
	var orphans, others []string
	for id, ep := range res.Network.Containers {
		if name, ok := orphan[id]; ok {
			orphans = append(orphans, name)
		} else {
			others = append(others, ep.Name)
		}
	}
	target.SortNatural(orphans)
	target.SortNatural(others)
	switch {
	case len(orphans) > 0:
		return "kept: orphan containers still use it (" + strings.Join(orphans, ", ") + "); down --remove-orphans removes them", nil
	case len(others) > 0:
		return "kept: containers outside the project use it (" + strings.Join(others, ", ") + ")", nil
	}
	// Every container is gone, but the engine still counts an endpoint: a
	// stale libnetwork entry, seen on Docker 20.10 after many concurrent
	// removals, that only a daemon restart clears. The next up reuses the
	// network, so down finishes.
	return "kept: the engine still counts endpoints on it though none of this project's containers uses it (a Docker engine issue; restarting dockerd clears it); the next up reuses it", nil
}
