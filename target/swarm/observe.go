package swarm

import (
	"context"
	"fmt"
	"sort"

	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// observed is what the manager says about a project at one moment: its
// services, their tasks (every task the manager still remembers, current
// and past), and the swarm's nodes.
type observed struct {
	// services by compose service name.
	services map[string]swarm.Service
	// tasks by compose service name.
	tasks map[string][]swarm.Task
	// nodes by node ID.
	nodes map[string]swarm.Node
	// health is, by task ID, the health of running tasks whose
	// healthcheck opdeploy runs (health.go), with the reason when not
	// healthy.
	health map[string]taskHealth
	// orphans are swarm services of the project that the compose project
	// no longer has, by engine name.
	orphans []swarm.Service
}

// observe lists the project's services, their tasks and the nodes. Three
// calls, whatever the size of the project.
func (d *Deployment) observe(ctx context.Context, api dockerapi.API) (observed, error) {
	obs := observed{services: map[string]swarm.Service{}, tasks: map[string][]swarm.Task{}, nodes: map[string]swarm.Node{}}
	f := client.Filters{}
	f.Add("label", labelNamespace+"="+d.project.Name)
	services, err := api.ServiceList(ctx, client.ServiceListOptions{Filters: f})
	if err != nil {
		return obs, fmt.Errorf("list services of %s: %w", d.project.Name, err)
	}
	byID := map[string]string{}
	tf := client.Filters{}
	for _, svc := range services.Items {
		name := svc.Spec.Labels[labelService]
		if _, declared := d.project.Services[name]; !declared {
			obs.orphans = append(obs.orphans, svc)
			continue
		}
		obs.services[name] = svc
		byID[svc.ID] = name
		tf.Add("service", svc.ID)
	}
	sort.Slice(obs.orphans, func(i, j int) bool { return obs.orphans[i].Spec.Name < obs.orphans[j].Spec.Name })
	if len(byID) > 0 {
		tasks, err := api.TaskList(ctx, client.TaskListOptions{Filters: tf})
		if err != nil {
			return obs, fmt.Errorf("list tasks of %s: %w", d.project.Name, err)
		}
		for _, t := range tasks.Items {
			if name, ok := byID[t.ServiceID]; ok {
				obs.tasks[name] = append(obs.tasks[name], t)
			}
		}
	}
	nodes, err := api.NodeList(ctx, client.NodeListOptions{})
	if err != nil {
		return obs, fmt.Errorf("list nodes: %w", err)
	}
	for _, n := range nodes.Items {
		obs.nodes[n.ID] = n
	}
	d.probeHealth(ctx, obs)
	obs.health = map[string]taskHealth{}
	for name, tasks := range obs.tasks {
		s := d.project.Services[name]
		if healthRunner(s) != healthByOpdeploy {
			continue
		}
		for _, t := range tasks {
			p, seen := d.health.get(t.ID)
			h, why := probedHealth(s, p, seen)
			obs.health[t.ID] = taskHealth{h, why}
		}
	}
	return obs, nil
}

// taskHealth is a task's health as opdeploy's own healthcheck runs say.
type taskHealth struct {
	health target.Health
	reason string
}

// nodeName is how rows and messages name a node: its hostname.
func (o observed) nodeName(id string) string {
	if n, ok := o.nodes[id]; ok && n.Description.Hostname != "" {
		return n.Description.Hostname
	}
	if id == "" {
		return ""
	}
	return dockerapi.ShortID(id)
}

// nodeReady says whether the manager sees the node as up.
func (o observed) nodeReady(id string) bool {
	n, ok := o.nodes[id]
	return ok && n.Status.State == swarm.NodeStateReady
}
