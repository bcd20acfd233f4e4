package swarm

import (
	"context"
	"fmt"

	"github.com/moby/moby/client"

	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// managerAPI connects to the manager the spec names and checks that it is
// one: a plain engine, or a worker, cannot deploy services.
func (d *Deployment) managerAPI(ctx context.Context) (dockerapi.API, error) {
	eng := d.manager()
	api, err := eng.Client(ctx)
	if err != nil {
		return nil, err
	}
	d.checked.Do(func() {
		info, err := api.Info(ctx, client.InfoOptions{})
		if err != nil {
			d.checkErr = err
			return
		}
		if !info.Info.Swarm.ControlAvailable {
			state := string(info.Info.Swarm.LocalNodeState)
			if state == "active" {
				state = "a worker"
			}
			d.checkErr = fmt.Errorf("the engine at %s is not a swarm manager (it is %s): point endpoint at a manager, or bring up a swarm first (examples/subjects/swarm-lab.star)", eng.Where(), state)
		}
	})
	if d.checkErr != nil {
		return nil, d.checkErr
	}
	return api, nil
}

// look is the preamble of most verbs: the services they act on (named,
// or all; in dependency order), the manager, and what it says now.
func (d *Deployment) look(ctx context.Context, names []string) ([]string, dockerapi.API, observed, error) {
	services, err := d.selected(names, false)
	if err != nil {
		return nil, nil, observed{}, err
	}
	api, err := d.managerAPI(ctx)
	if err != nil {
		return nil, nil, observed{}, err
	}
	obs, err := d.observe(ctx, api)
	return services, api, obs, err
}
