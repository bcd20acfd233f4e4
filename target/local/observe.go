package local

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/client"
	"golang.org/x/sync/errgroup"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// observe reads what exists: containers (from the monitor's snapshot, which
// is current), networks, volumes and images, and computes each service's
// desired state. networks are those the services use: when one of them
// differs from its definition, observe also reads which containers are
// attached to it, for the plan to recreate it.
func (d *Deployment) observe(ctx context.Context, cli dockerapi.API, services []types.ServiceConfig, networks []desiredResource, mon *monitor) (observedState, []desiredService, error) {
	obs := observedState{Networks: map[string]observedResource{}, ForeignNetworks: map[string]bool{}, Volumes: map[string]observedResource{}, Images: map[string]observedImage{}}
	snap, _ := mon.snapshot()
	for _, c := range snap {
		svc, known := d.project.Services[c.Service]
		obs.Containers = append(obs.Containers, observedContainer{
			ID: c.ID, Name: c.Name, Service: c.Service, Number: c.Number, State: c.State,
			Hash: c.Labels[labelConfigHash], ImageID: c.Labels[labelImage], Networks: c.Networks,
			Completed: known && d.oneShot[c.Service] && c.State == target.StateExited && c.ExitCode == 0 && !willRestart(restartOf(svc), 0),
		})
	}
	sort.Slice(obs.Containers, func(i, j int) bool { return target.NaturalLess(obs.Containers[i].Name, obs.Containers[j].Name) })

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		// Every network, not only the project's: a name taken by a
		// network without the project's label is reused, not duplicated.
		res, err := cli.NetworkList(gctx, client.NetworkListOptions{})
		if err != nil {
			return fmt.Errorf("list networks: %w", err)
		}
		for _, n := range res.Items {
			if n.Labels[labelProject] == d.project.Name {
				obs.Networks[n.Name] = observedResource{Hash: n.Labels[labelConfigHash]}
			} else {
				obs.ForeignNetworks[n.Name] = true
			}
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
			obs.Volumes[v.Name] = observedResource{Hash: v.Labels[labelConfigHash]}
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
			img, err := inspectImage(gctx, cli, ref)
			if err != nil {
				return err
			}
			mu.Lock()
			obs.Images[ref] = img
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return obs, nil, err
	}
	if err := d.observeAttachments(ctx, cli, networks, &obs); err != nil {
		return obs, nil, err
	}

	owners := ownerIDs(obs.Containers)
	desired := make([]desiredService, 0, len(services))
	for _, s := range services {
		resolved := resolveRefs(s, owners)
		hash, err := configHash(resolved, filesDigest(d.project, s))
		if err != nil {
			return obs, nil, err
		}
		ref := imageRef(d.project.Name, s)
		binary := false
		for _, img := range d.spec.Images {
			binary = binary || img.Tag == ref
		}
		desired = append(desired, desiredService{
			Config: s, Replicas: s.GetScale(), Hash: hash, Image: ref, ImageID: obs.Images[ref].ID,
			Build: s.Build != nil, Binary: binary, Pull: s.PullPolicy, Networks: d.networksOf(s),
		})
	}
	return obs, desired, nil
}

// observeAttachments reads, for each network whose definition changed, the
// containers attached to it: the project's (running or not, from their
// own network settings) and others running on it (from the network).
// Nothing is read when no network changed, which is every ordinary up.
func (d *Deployment) observeAttachments(ctx context.Context, cli dockerapi.API, networks []desiredResource, obs *observedState) error {
	var changed []string
	for _, n := range networks {
		if o, ok := obs.Networks[n.Name]; ok && o.Hash != "" && o.Hash != n.Hash {
			changed = append(changed, n.Name)
		}
	}
	if len(changed) == 0 {
		return nil
	}
	list, err := listProjectContainers(ctx, cli, d.project.Name)
	if err != nil {
		return err
	}
	for _, name := range changed {
		o := obs.Networks[name]
		project := map[string]bool{}
		for _, c := range list {
			if c.NetworkSettings != nil && c.NetworkSettings.Networks[name] != nil {
				o.Attached = append(o.Attached, c.ID)
				project[c.ID] = true
			}
		}
		res, err := cli.NetworkInspect(ctx, name, client.NetworkInspectOptions{})
		if err != nil {
			return fmt.Errorf("inspect network %s: %w", name, err)
		}
		for id, ep := range res.Network.Containers {
			if !project[id] {
				o.Foreign = append(o.Foreign, strings.TrimPrefix(ep.Name, "/"))
			}
		}
		sort.Strings(o.Attached)
		sort.Strings(o.Foreign)
		obs.Networks[name] = o
	}
	return nil
}
