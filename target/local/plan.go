package local

import (
	"fmt"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/opdeploy/opdeploy/target"
)

// opKind is one kind of step of a plan; each is one or a few API calls.
type opKind string

const (
	opCreateNetwork    opKind = "create network"
	opAdoptNetwork     opKind = "use network"
	opRecreateNetwork  opKind = "recreate network"
	opKeepNetwork      opKind = "keep network"
	opCreateVolume     opKind = "create volume"
	opKeepVolume       opKind = "keep volume"
	opPullImage        opKind = "pull image"
	opBuildImage       opKind = "build image"
	opCreateContainer  opKind = "create container"
	opRecreate         opKind = "recreate container"
	opStartContainer   opKind = "start container"
	opRestartContainer opKind = "restart container"
	opUnpauseContainer opKind = "unpause container"
	opConnectContainer opKind = "connect container"
	opRemoveContainer  opKind = "remove container"
	opKeepOrphan       opKind = "keep orphan container"
)

// operation is one step of a plan, with everything the executor needs to
// carry it out: the executor decides nothing.
type operation struct {
	Kind   opKind
	Name   string // the engine resource: container, network, volume or image
	Reason string // why, for --dry-run and progress

	// Key is a network's or volume's key in the compose file.
	Key string
	// Attached are the containers a network recreate disconnects and
	// connects again (stopping the running ones first).
	Attached []attachment
	// ForServices are the services an image is pulled or built for.
	ForServices []string
	// BuildFrom is the service whose build section makes the image.
	BuildFrom *types.ServiceConfig
	// Platform is the platform an image is pulled for ("" for the
	// engine's own): the first one its services name.
	Platform string

	// Service is the service a container op is for (only its name, for an
	// orphan's). Number is the replica; ContainerID the existing container
	// (recreate, start, restart, remove); ImageID the image a created
	// container runs, recorded in its label.
	Service     types.ServiceConfig
	Number      int
	ContainerID string
	ImageID     string
	// Networks are the networks a connect attaches the container to again.
	Networks []string
}

func (o operation) String() string {
	s := string(o.Kind) + " " + o.Name
	if o.Reason != "" {
		s += " (" + o.Reason + ")"
	}
	return s
}

// plan is what `up` will do, computed without API calls from the desired
// and observed states. Its String is deterministic: --dry-run prints it and
// tests compare it with golden text.
type plan struct {
	Images     []operation            // pulls and builds, first of all
	Resources  []operation            // networks and volumes
	Containers map[string][]operation // by service: created, recreated, started, removed
	// Restarts are, by service, the containers kept as they are but
	// restarted once the service's dependencies are ready, because a
	// dependency declared with restart: true is recreated.
	Restarts  map[string][]operation
	Orphans   []operation // removed only with RemoveOrphans
	Unchanged []string    // containers left alone
	// Provisional are containers left alone unless the image being pulled
	// or built differs from theirs: up plans again once images are done.
	Provisional []string
	Services    []string // services to bring up, natural order
}

func (p *plan) String() string {
	var b strings.Builder
	for _, op := range p.Images {
		fmt.Fprintln(&b, op)
	}
	for _, op := range p.Resources {
		fmt.Fprintln(&b, op)
	}
	for _, svc := range p.Services {
		for _, op := range p.Containers[svc] {
			fmt.Fprintln(&b, op)
		}
		for _, op := range p.Restarts[svc] {
			fmt.Fprintln(&b, op)
		}
	}
	for _, op := range p.Orphans {
		fmt.Fprintln(&b, op)
	}
	for _, name := range p.Provisional {
		fmt.Fprintf(&b, "keep container %s (recreated if the new image differs)\n", name)
	}
	for _, name := range p.Unchanged {
		fmt.Fprintf(&b, "keep container %s (up to date)\n", name)
	}
	return b.String()
}

// reconcileOptions are the up flags that change decisions.
type reconcileOptions struct {
	ForceRecreate, NoRecreate, RemoveOrphans, Build bool
	// ImagesDone: the plan's pulls and builds have run and the image IDs
	// are what they made; plan containers against them, and no images.
	ImagesDone bool
}

// reconcile computes the plan. project is the compose project name;
// networks and volumes are those the selected services need, services the
// desired services (selected ones and their dependencies), known every
// service of the model (orphans are containers of none).
func reconcile(project string, networks, volumes []desiredResource, services []desiredService, known map[string]bool, obs observedState, opts reconcileOptions) *plan {
	p := &plan{Containers: map[string][]operation{}, Restarts: map[string][]operation{}}
	selected := map[string]types.ServiceConfig{}
	for _, s := range services {
		selected[s.name()] = s.Config
	}
	stoppedByNetwork := planNetworks(p, networks, selected, obs, opts)
	planVolumes(p, volumes, obs)
	pending := map[string]bool{}
	if !opts.ImagesDone {
		pending = planImages(p, services, opts)
	}

	byService := map[string][]observedContainer{}
	for _, c := range obs.Containers {
		byService[c.Service] = append(byService[c.Service], c)
	}
	recreated := map[string]bool{}
	bounced := map[string]bool{} // containers stopped by a network recreate are started again
	// replaced: the container other services' references resolve to (the
	// first replica) is created or recreated; services that join its
	// namespaces or mount its volumes are recreated with it.
	replaced := map[string]bool{}
	kept := map[string][]observedContainer{} // running containers left alone, by service
	for _, s := range refOrder(services) {
		why := ownerReplaced(s.Config, replaced)
		ops, keep := planContainers(project, s, byService[s.name()], pending[s.Image], why, stoppedByNetwork, opts)
		for _, op := range ops {
			recreated[s.name()] = recreated[s.name()] || op.Kind == opRecreate
			bounced[s.name()] = bounced[s.name()] || (op.Kind == opStartContainer && stoppedByNetwork[op.ContainerID] != "")
			if op.Number == 1 && (op.Kind == opRecreate || op.Kind == opCreateContainer) {
				replaced[s.name()] = true
			}
		}
		p.Containers[s.name()] = ops
		for _, c := range keep {
			if pending[s.Image] {
				p.Provisional = append(p.Provisional, c.Name)
			} else if c.State == target.StateRunning {
				kept[s.name()] = append(kept[s.name()], c)
			} else {
				p.Unchanged = append(p.Unchanged, c.Name)
			}
		}
	}
	for _, s := range services {
		p.Services = append(p.Services, s.name())
	}
	// A dependent declared with depends_on restart: true on a recreated
	// service is restarted, as compose does: it may hold connections to
	// the container that is gone. So is one on a service whose containers
	// a network recreate stops and starts: a container in the network
	// namespace of one of them (network_mode: "service:x", which implies
	// restart: true) would otherwise keep the namespace that died with it.
	for _, s := range services {
		var because []string
		for _, dep := range sortedKeys(s.Config.DependsOn) {
			if !s.Config.DependsOn[dep].Restart {
				continue
			}
			switch {
			case recreated[dep]:
				because = append(because, dep+" recreated")
			case bounced[dep]:
				because = append(because, dep+" restarted with its network")
			}
		}
		for _, c := range kept[s.name()] {
			if len(because) == 0 {
				p.Unchanged = append(p.Unchanged, c.Name)
				continue
			}
			p.Restarts[s.name()] = append(p.Restarts[s.name()], operation{
				Kind: opRestartContainer, Name: c.Name, Service: s.Config, Number: c.Number, ContainerID: c.ID,
				Reason: strings.Join(because, ", ") + "; depends_on restart: true",
			})
		}
	}
	for _, c := range obs.Containers {
		if !known[c.Service] {
			op := operation{Kind: opRemoveContainer, Name: c.Name, Service: types.ServiceConfig{Name: c.Service}, Number: c.Number, ContainerID: c.ID, Reason: "orphan"}
			if !opts.RemoveOrphans {
				op.Kind, op.Reason = opKeepOrphan, "its service is not in the project; --remove-orphans removes it"
			}
			p.Orphans = append(p.Orphans, op)
		}
	}
	sort.Slice(p.Orphans, func(i, j int) bool { return target.NaturalLess(p.Orphans[i].Name, p.Orphans[j].Name) })
	target.SortNatural(p.Unchanged)
	target.SortNatural(p.Provisional)
	return p
}

// planImages adds one pull or build per image reference, naming the
// services that need it, and returns the references being made.
func planImages(p *plan, services []desiredService, opts reconcileOptions) map[string]bool {
	users := map[string][]string{}
	ops := map[string]operation{}
	for _, s := range services {
		switch {
		case s.Binary:
			continue // built before planning
		case s.Build && (opts.Build || s.ImageID == "" || s.Pull == "build"):
			if _, ok := ops[s.Image]; !ok || ops[s.Image].Kind != opBuildImage {
				cfg := s.Config
				ops[s.Image] = operation{Kind: opBuildImage, Name: s.Image, BuildFrom: &cfg}
			}
		case s.ImageID == "" || s.Pull == "always":
			if _, ok := ops[s.Image]; !ok {
				ops[s.Image] = operation{Kind: opPullImage, Name: s.Image}
			}
		default:
			continue
		}
		users[s.Image] = append(users[s.Image], s.name())
	}
	pending := map[string]bool{}
	platforms := map[string]string{}
	for _, s := range services {
		if _, ok := platforms[s.Image]; !ok && s.Config.Platform != "" {
			platforms[s.Image] = s.Config.Platform
		}
	}
	for _, ref := range sortedKeys(ops) {
		op := ops[ref]
		op.ForServices = users[ref]
		op.Platform = platforms[ref]
		op.Reason = "for " + strings.Join(users[ref], ", ")
		p.Images = append(p.Images, op)
		pending[ref] = true
	}
	return pending
}

// planContainers decides, replica by replica, what becomes of one
// service's containers. It returns the operations and the containers left
// as they are.
//
// ownerWhy, when not "", says which service whose namespaces or volumes s
// uses is replaced: s's containers are recreated too. networkStopped holds
// the running containers a network recreate stops: they are started again.
func planContainers(project string, s desiredService, existing []observedContainer, imagePending bool, ownerWhy string, networkStopped map[string]string, opts reconcileOptions) (ops []operation, keep []observedContainer) {
	sort.Slice(existing, func(i, j int) bool { return existing[i].Number < existing[j].Number })
	byNumber := map[int]observedContainer{}
	remove := func(c observedContainer, reason string) {
		ops = append(ops, operation{Kind: opRemoveContainer, Name: c.Name, Service: s.Config, Number: c.Number, ContainerID: c.ID, Reason: reason})
	}
	for _, c := range existing {
		canonical := containerNameFor(project, s, c.Number)
		prev, dup := byNumber[c.Number]
		switch {
		case c.Number < 1 || c.Number > s.Replicas:
			remove(c, "scaled down")
			continue
		case dup && c.Name != canonical:
			remove(c, duplicateReason(c, canonical))
			continue
		case dup:
			remove(prev, duplicateReason(prev, canonical))
		}
		byNumber[c.Number] = c
	}
	for n := 1; n <= s.Replicas; n++ {
		name := containerNameFor(project, s, n)
		c, ok := byNumber[n]
		op := operation{Name: name, Service: s.Config, Number: n, ContainerID: c.ID, ImageID: s.ImageID}
		upToDate := c.State == target.StateRunning || c.State == target.StateRestarting || c.State == target.StatePaused || c.Completed
		switch {
		case !ok:
			op.Kind, op.ContainerID = opCreateContainer, ""
		case opts.NoRecreate && c.State == target.StatePaused:
			op.Kind, op.Name, op.Reason = opUnpauseContainer, c.Name, "paused"
		case opts.NoRecreate:
			if c.State == target.StateRunning || c.State == target.StateRestarting {
				keep = append(keep, c)
				continue
			}
			op.Kind, op.Name = opStartContainer, c.Name
		case opts.ForceRecreate:
			op.Kind, op.Reason = opRecreate, "forced"
		case ownerWhy != "":
			op.Kind, op.Reason = opRecreate, ownerWhy
		case c.Hash != s.Hash:
			op.Kind, op.Reason = opRecreate, "config changed"
		case !imagePending && s.ImageID != "" && c.ImageID != "" && c.ImageID != s.ImageID:
			op.Kind, op.Reason = opRecreate, "image changed"
		case networkStopped[c.ID] != "":
			op.Kind, op.Name, op.Reason = opStartContainer, c.Name, "network "+networkStopped[c.ID]+" recreated"
		case c.State == target.StatePaused:
			op.Kind, op.Name, op.Reason = opUnpauseContainer, c.Name, "paused"
		case upToDate && !c.Completed && len(missingNetworks(s.Networks, c.Networks)) > 0:
			missing := missingNetworks(s.Networks, c.Networks)
			op.Kind, op.Name, op.Networks = opConnectContainer, c.Name, missing
			op.Reason = "disconnected from " + strings.Join(missing, ", ")
		case upToDate:
			keep = append(keep, c)
			continue
		default:
			op.Kind, op.Name, op.Reason = opStartContainer, c.Name, string(c.State)
		}
		ops = append(ops, op)
	}
	return ops, keep
}

func containerNameFor(project string, s desiredService, n int) string {
	return replicaName(project, s.name(), s.Config.ContainerName, n)
}

// duplicateReason says why a second container with one replica's labels is
// removed: only one whose name a recreate gives the container it puts
// aside (executor_containers.go) was left by an interrupted recreate.
func duplicateReason(c observedContainer, canonical string) string {
	if c.Name == asideName(c.ID, canonical) {
		return "left over from an interrupted recreate"
	}
	return "duplicate: it carries the labels of " + canonical
}

// asideName is the name a recreate gives the old container while its
// successor is created.
func asideName(id, name string) string {
	return id[:min(12, len(id))] + "_" + name
}
