package local

import (
	"fmt"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/opdeploy/opdeploy/target"
)

// attachment is a container a network recreate disconnects and connects
// again.
type attachment struct {
	ContainerID string
	Name        string
	Service     types.ServiceConfig
	Number      int
	// Running: it is stopped first (the network cannot be removed while it
	// has endpoints) and started again by the plan's container steps.
	Running bool
	// Reconnect: its service still uses the network. Otherwise it is left
	// disconnected: its changed definition recreates it anyway.
	Reconnect bool
}

// planNetworks creates the networks that are missing and, as docker compose
// does, recreates those whose definition changed (their config-hash label
// differs): the attached containers are stopped, disconnected, and connected
// to the new network, keeping their identity. It returns the running
// containers it stops, with the network's name, for planContainers to start
// them again. A network without the label (made by an older tool) is left
// as it is; so is one that containers outside the services being brought
// up use, with a warning, since recreating it would cut them off.
func planNetworks(p *plan, networks []desiredResource, services map[string]types.ServiceConfig, obs observedState, opts reconcileOptions) (stopped map[string]string) {
	stopped = map[string]string{}
	byID := map[string]observedContainer{}
	for _, c := range obs.Containers {
		byID[c.ID] = c
	}
	for _, n := range networks {
		o, exists := obs.Networks[n.Name]
		switch {
		case !exists && obs.ForeignNetworks[n.Name]:
			// Reuse it, as compose does, rather than make a twin the engine
			// would then find ambiguous.
			p.Resources = append(p.Resources, operation{Kind: opAdoptNetwork, Name: n.Name, Key: n.Key, Reason: "it exists without this project's label; used as it is"})
			continue
		case !exists:
			p.Resources = append(p.Resources, operation{Kind: opCreateNetwork, Name: n.Name, Key: n.Key})
			continue
		case o.Hash == "" || o.Hash == n.Hash:
			continue
		}
		keep := func(why string) {
			p.Resources = append(p.Resources, operation{Kind: opKeepNetwork, Name: n.Name, Key: n.Key, Reason: "its definition changed, but " + why})
		}
		if opts.NoRecreate {
			keep("--no-recreate keeps it")
			continue
		}
		op := operation{Kind: opRecreateNetwork, Name: n.Name, Key: n.Key}
		others := append([]string(nil), o.Foreign...)
		for _, id := range o.Attached {
			c, ok := byID[id]
			svc, selected := services[c.Service]
			if !ok || !selected {
				others = append(others, c.Name)
				continue
			}
			_, uses := svc.Networks[n.Key]
			a := attachment{ContainerID: id, Name: c.Name, Service: svc, Number: c.Number, Running: c.State == target.StateRunning, Reconnect: uses && svc.NetworkMode == ""}
			op.Attached = append(op.Attached, a)
		}
		if len(others) > 0 {
			keep(fmt.Sprintf("containers this up does not bring up use it (%s): recreating it would cut them off", strings.Join(others, ", ")))
			continue
		}
		sort.Slice(op.Attached, func(i, j int) bool { return target.NaturalLess(op.Attached[i].Name, op.Attached[j].Name) })
		var names []string
		for _, a := range op.Attached {
			names = append(names, a.Name)
			if a.Running {
				stopped[a.ContainerID] = n.Name
			}
		}
		op.Reason = "its definition changed"
		if len(names) > 0 {
			op.Reason += "; reconnects " + strings.Join(names, ", ")
		}
		p.Resources = append(p.Resources, op)
	}
	return stopped
}

// planVolumes creates the volumes that are missing. A volume whose
// definition changed is kept with its data and a warning: recreating it
// would destroy the data, which docker compose does only after asking, and
// opdeploy never asks.
func planVolumes(p *plan, volumes []desiredResource, obs observedState) {
	for _, v := range volumes {
		o, exists := obs.Volumes[v.Name]
		switch {
		case !exists:
			p.Resources = append(p.Resources, operation{Kind: opCreateVolume, Name: v.Name, Key: v.Key})
		case o.Hash != "" && o.Hash != v.Hash:
			p.Resources = append(p.Resources, operation{Kind: opKeepVolume, Name: v.Name, Key: v.Key,
				Reason: "its definition changed; kept with its data: down --volumes, then up, recreates it"})
		}
	}
}

// ownerReplaced says why a service must be recreated because a service
// whose namespaces or volumes it uses has its first container replaced
// ("" when none is): the engine took that container's ID when the
// dependent was made.
func ownerReplaced(s types.ServiceConfig, replaced map[string]bool) string {
	for _, r := range serviceRefs(s) {
		if !replaced[r.Service] {
			continue
		}
		switch r.Kind {
		case refNetwork:
			return "it uses the network of " + r.Service + ", which is recreated"
		case refVolumes:
			return "it mounts the volumes of " + r.Service + ", which is recreated"
		default:
			return fmt.Sprintf("it uses the %s namespace of %s, which is recreated", strings.ToUpper(string(r.Kind)), r.Service)
		}
	}
	return ""
}
