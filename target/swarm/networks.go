package swarm

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/client"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// usedNetworks are the project networks the services use, sorted.
func usedNetworks(p *types.Project, services []string) []string {
	seen := map[string]bool{}
	for _, name := range services {
		for key := range p.Services[name].Networks {
			seen[key] = true
		}
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ensureNetworks creates the overlay networks the services need and the
// swarm lacks. External networks must exist already.
func (d *Deployment) ensureNetworks(ctx context.Context, api dockerapi.API, services []string, progress target.Progress) error {
	existing, err := api.NetworkList(ctx, client.NetworkListOptions{})
	if err != nil {
		return fmt.Errorf("list networks: %w", err)
	}
	have := map[string]bool{}
	for _, n := range existing.Items {
		have[n.Name] = true
	}
	for _, key := range usedNetworks(d.project, services) {
		cfg := d.project.Networks[key]
		name := networkName(d.project, key)
		if have[name] {
			continue
		}
		if bool(cfg.External) {
			return fmt.Errorf("network %s is declared external but does not exist on the swarm", name)
		}
		progress.Event(target.ProgressEvent{Time: time.Now(), Resource: target.Network(name), Action: target.ActionCreating})
		_, err := api.NetworkCreate(ctx, name, networkSpec(d.project, key, cfg))
		if err != nil {
			err = fmt.Errorf("create network %s: %w", name, err)
			progress.Event(target.ProgressEvent{Time: time.Now(), Resource: target.Network(name), Action: target.ActionCreateFailed, Done: true, Err: err})
			return err
		}
		progress.Event(target.ProgressEvent{Time: time.Now(), Resource: target.Network(name), Action: target.ActionCreated, Done: true})
	}
	return nil
}
