package local

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/client"
	"golang.org/x/sync/errgroup"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// observe reads what exists: containers (from the monitor's snapshot, which
// is current), networks, volumes and images, and computes each service's
// desired state.
func (d *Deployment) observe(ctx context.Context, cli dockerapi.API, services []types.ServiceConfig, mon *monitor) (observedState, []desiredService, error) {
	obs := observedState{Networks: map[string]bool{}, ForeignNetworks: map[string]bool{}, Volumes: map[string]bool{}, Images: map[string]string{}}
	snap, _ := mon.snapshot()
	for _, c := range snap {
		svc, known := d.project.Services[c.Service]
		obs.Containers = append(obs.Containers, observedContainer{
			ID: c.ID, Name: c.Name, Service: c.Service, Number: c.Number, State: c.State,
			Hash: c.Labels[labelConfigHash], ImageID: c.Labels[labelImage],
			Completed: known && d.oneShot[c.Service] && c.State == target.StateExited && c.ExitCode == 0 && !willRestart(svc.Restart, 0),
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
				obs.Networks[n.Name] = true
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
			obs.Volumes[v.Name] = true
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
			id, err := imageID(gctx, cli, ref)
			if err != nil {
				return err
			}
			mu.Lock()
			obs.Images[ref] = id
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return obs, nil, err
	}

	desired := make([]desiredService, 0, len(services))
	for _, s := range services {
		hash, err := configHash(s)
		if err != nil {
			return obs, nil, err
		}
		ref := imageRef(d.project.Name, s)
		binary := false
		for _, img := range d.spec.Images {
			binary = binary || img.Tag == ref
		}
		desired = append(desired, desiredService{
			Config: s, Replicas: s.GetScale(), Hash: hash, Image: ref, ImageID: obs.Images[ref],
			Build: s.Build != nil, Binary: binary, Pull: s.PullPolicy,
		})
	}
	return obs, desired, nil
}
