package local

import (
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/opdeploy/opdeploy/target"
)

// The states reconcile compares: what the project asks for (desired) and
// what exists on the engine (observed, by observe.go).

// desiredService is what the project asks of one service.
type desiredService struct {
	Config   types.ServiceConfig
	Replicas int
	Hash     string
	Image    string
	ImageID  string // "" when the image is not present locally
	Build    bool   // the service has a build section
	Binary   bool   // the image is a subject's binary_image, built before planning
	Pull     string // pull_policy
	// Networks are the engine names of the networks its containers are
	// attached to (none when they use another network namespace).
	Networks []string
}

func (s desiredService) name() string { return s.Config.Name }

// desiredResource is a network or volume the services need and opdeploy
// manages: its compose key, its engine name and its config hash.
type desiredResource struct {
	Key, Name, Hash string
}

// observedResource is a network or volume of the project on the engine.
type observedResource struct {
	Hash string // its config-hash label; "" when made without one
	// Attached are the IDs of the project's containers attached to a
	// network, and Foreign the names of other containers running on it;
	// both are read only for networks whose definition changed.
	Attached []string
	Foreign  []string
}

// observedImage is an image present on the engine.
type observedImage struct {
	ID                        string
	OS, Architecture, Variant string
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
	// Networks are the engine names of the networks it is attached to.
	Networks []string
}

// observedState is everything of the project that exists on the engine.
type observedState struct {
	Containers []observedContainer
	Networks   map[string]observedResource // by engine name, with this project's label
	// ForeignNetworks are names taken by networks without this project's
	// label (made by hand, or by another tool).
	ForeignNetworks map[string]bool
	Volumes         map[string]observedResource
	Images          map[string]observedImage // by reference, for images present
}
