package local

import (
	"fmt"
	"sort"
	"strings"

	"github.com/opdeploy/opdeploy/target"
)

// opKind is one kind of step of a plan; each is one or a few API calls.
type opKind string

const (
	opCreateNetwork   opKind = "create network"
	opCreateVolume    opKind = "create volume"
	opPullImage       opKind = "pull image"
	opBuildImage      opKind = "build image"
	opCreateContainer opKind = "create container"
	opRecreate        opKind = "recreate container"
	opRecreateIfImage opKind = "recreate container if image differs"
	opStartContainer  opKind = "start container"
	opRemoveContainer opKind = "remove container"
	opKeepOrphan      opKind = "keep orphan container"
)

// operation is one step. Container steps name their service and replica.
type operation struct {
	Kind        opKind
	Name        string // resource name (container, network, volume, image)
	Service     string
	Number      int
	ContainerID string // the existing container, for recreate/start/remove
	ImageID     string // the existing container's image, for opRecreateIfImage
	Running     bool   // the existing container runs, for opRecreateIfImage
	Reason      string
}

func (o operation) String() string {
	if o.Kind == opRecreateIfImage {
		return "recreate container " + o.Name + " (if the new image differs)"
	}
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
	Resources  []operation            // networks and volumes
	Images     []operation            // pulls and builds
	Containers map[string][]operation // by service
	Orphans    []operation            // removal only with RemoveOrphans
	Unchanged  []string               // containers left alone
	Services   []string               // services to bring up, natural order
}

func (p *plan) String() string {
	var b strings.Builder
	for _, op := range p.Resources {
		fmt.Fprintln(&b, op)
	}
	for _, op := range p.Images {
		fmt.Fprintln(&b, op)
	}
	for _, svc := range p.Services {
		for _, op := range p.Containers[svc] {
			fmt.Fprintln(&b, op)
		}
	}
	for _, op := range p.Orphans {
		fmt.Fprintln(&b, op)
	}
	for _, name := range p.Unchanged {
		fmt.Fprintf(&b, "keep container %s (up to date)\n", name)
	}
	return b.String()
}

// desiredService is what the project asks of one service.
type desiredService struct {
	Name     string
	Replicas int
	Hash     string
	Image    string
	ImageID  string // "" when the image is not present locally
	Build    bool   // the service has a build section
	Binary   bool   // the image is a subject's binary_image, built before planning
	Pull     string // pull_policy
	// ContainerName is set when the service fixes its container's name.
	ContainerName string
}

// observedContainer is a container found by label.
type observedContainer struct {
	ID      string
	Name    string
	Service string
	Number  int
	State   target.State
	Hash    string
	ImageID string
	// Completed is true for a one-shot container that exited 0 and that the
	// engine will not restart: it is done, and up leaves it alone.
	Completed bool
}

// observedState is everything of the project that exists on the engine.
type observedState struct {
	Containers []observedContainer
	Networks   map[string]bool // engine names
	Volumes    map[string]bool
	Images     map[string]string // reference -> ID, for images present
}

// reconcileOptions are the up flags that change decisions.
type reconcileOptions struct {
	ForceRecreate, NoRecreate, RemoveOrphans, Build bool
}

// reconcile computes the plan. project is the compose project name;
// networks and volumes are the engine names the selected services need,
// services the desired services (selected ones and their dependencies),
// known every service of the model (orphans are containers of none).
func reconcile(project string, networks, volumes []string, services []desiredService, known map[string]bool, obs observedState, opts reconcileOptions) *plan {
	p := &plan{Containers: map[string][]operation{}}
	for _, n := range networks {
		if !obs.Networks[n] {
			p.Resources = append(p.Resources, operation{Kind: opCreateNetwork, Name: n})
		}
	}
	for _, v := range volumes {
		if !obs.Volumes[v] {
			p.Resources = append(p.Resources, operation{Kind: opCreateVolume, Name: v})
		}
	}

	// Images: one pull or build per reference, naming the services that need it.
	imageUsers := map[string][]string{}
	imageOp := map[string]opKind{}
	for _, s := range services {
		switch {
		case s.Binary:
			continue
		case s.Build && (opts.Build || s.ImageID == "" || s.Pull == "build"):
			imageOp[s.Image] = opBuildImage
		case s.ImageID == "" || s.Pull == "always":
			if imageOp[s.Image] == "" {
				imageOp[s.Image] = opPullImage
			}
		default:
			continue
		}
		imageUsers[s.Image] = append(imageUsers[s.Image], s.Name)
	}
	for _, ref := range sortedKeys(imageOp) {
		p.Images = append(p.Images, operation{Kind: imageOp[ref], Name: ref, Reason: "for " + strings.Join(imageUsers[ref], ", ")})
	}

	byService := map[string][]observedContainer{}
	for _, c := range obs.Containers {
		byService[c.Service] = append(byService[c.Service], c)
	}
	for _, s := range services {
		p.Services = append(p.Services, s.Name)
		var ops []operation
		existing := byService[s.Name]
		sort.Slice(existing, func(i, j int) bool { return existing[i].Number < existing[j].Number })
		byNumber := map[int]observedContainer{}
		for _, c := range existing {
			canonical := containerNameFor(project, s, c.Number)
			prev, dup := byNumber[c.Number]
			switch {
			case c.Number < 1 || c.Number > s.Replicas:
				ops = append(ops, operation{Kind: opRemoveContainer, Name: c.Name, Service: s.Name, Number: c.Number, ContainerID: c.ID, Reason: "scaled down"})
				continue
			case dup && c.Name != canonical:
				ops = append(ops, operation{Kind: opRemoveContainer, Name: c.Name, Service: s.Name, Number: c.Number, ContainerID: c.ID, Reason: duplicateReason(c, canonical)})
				continue
			case dup:
				ops = append(ops, operation{Kind: opRemoveContainer, Name: prev.Name, Service: s.Name, Number: prev.Number, ContainerID: prev.ID, Reason: duplicateReason(prev, canonical)})
			}
			byNumber[c.Number] = c
		}
		for n := 1; n <= s.Replicas; n++ {
			name := containerNameFor(project, s, n)
			c, ok := byNumber[n]
			imageChanged := ok && s.ImageID != "" && c.ImageID != "" && c.ImageID != s.ImageID
			// A pull or build may or may not change the image: decided once
			// its new ID is known.
			imagePending := ok && imageOp[s.Image] != ""
			switch {
			case !ok:
				ops = append(ops, operation{Kind: opCreateContainer, Name: name, Service: s.Name, Number: n})
			case opts.NoRecreate:
				if c.State != target.StateRunning && c.State != target.StateRestarting {
					ops = append(ops, operation{Kind: opStartContainer, Name: c.Name, Service: s.Name, Number: n, ContainerID: c.ID})
				} else {
					p.Unchanged = append(p.Unchanged, c.Name)
				}
			case opts.ForceRecreate:
				ops = append(ops, operation{Kind: opRecreate, Name: name, Service: s.Name, Number: n, ContainerID: c.ID, Reason: "forced"})
			case c.Hash != s.Hash:
				ops = append(ops, operation{Kind: opRecreate, Name: name, Service: s.Name, Number: n, ContainerID: c.ID, Reason: "config changed"})
			case imageChanged:
				ops = append(ops, operation{Kind: opRecreate, Name: name, Service: s.Name, Number: n, ContainerID: c.ID, Reason: "image changed"})
			case imagePending:
				ops = append(ops, operation{Kind: opRecreateIfImage, Name: name, Service: s.Name, Number: n, ContainerID: c.ID,
					ImageID: c.ImageID, Running: c.State == target.StateRunning || c.State == target.StateRestarting || c.State == target.StatePaused || c.Completed})
			case c.State == target.StateRunning || c.State == target.StateRestarting || c.State == target.StatePaused || c.Completed:
				p.Unchanged = append(p.Unchanged, c.Name)
			default:
				ops = append(ops, operation{Kind: opStartContainer, Name: c.Name, Service: s.Name, Number: n, ContainerID: c.ID, Reason: string(c.State)})
			}
		}
		p.Containers[s.Name] = ops
	}
	for _, c := range obs.Containers {
		if !known[c.Service] {
			p.Orphans = append(p.Orphans, operation{Kind: opRemoveContainer, Name: c.Name, Service: c.Service, Number: c.Number, ContainerID: c.ID, Reason: "orphan"})
		}
	}
	sort.Slice(p.Orphans, func(i, j int) bool { return target.NaturalLess(p.Orphans[i].Name, p.Orphans[j].Name) })
	target.SortNatural(p.Unchanged)
	if !opts.RemoveOrphans {
		// Orphans are reported, not removed.
		for i := range p.Orphans {
			p.Orphans[i].Kind, p.Orphans[i].Reason = opKeepOrphan, "its service is not in the project; --remove-orphans removes it"
		}
	}
	return p
}

func containerNameFor(project string, s desiredService, n int) string {
	return replicaName(project, s.Name, s.ContainerName, n)
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
