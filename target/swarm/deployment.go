// Package swarm deploys a compose project to a Docker Swarm as swarm
// services, through a manager's Engine API: services, tasks, nodes and
// overlay networks (docs/swarm.md). Node engines are reached for what the
// manager cannot do: running a command in a task's container, signalling
// it, loading images.
package swarm

import (
	"context"
	"sync"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/compose"
	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// Kind is how `opdeploy config` names this target.
const Kind = "swarm"

// Engines are the Docker engines a swarm deployment talks to, all
// connected lazily: nothing connects while a subject is evaluated.
type Engines struct {
	// Local is the engine on this machine: it builds binary images, and
	// images are loaded into the nodes from it.
	Local *dockerapi.Engine
	// Dial returns the engine at an endpoint: the manager, or one node.
	// The same endpoint gives the same engine.
	Dial func(endpoint string) *dockerapi.Engine
}

// Deployment is a SwarmDeployment: a loaded compose project bound for the
// swarm whose manager answers at the spec's endpoint.
type Deployment struct {
	spec    target.SwarmSpec
	project *types.Project
	engines Engines
	// warnings are what validation found ignorable, by service.
	warnings map[string][]string

	// health holds the results of the healthchecks opdeploy runs.
	health probes

	// checked is done once the manager was seen to be one (manager.go).
	checked  sync.Once
	checkErr error
}

var _ target.DeploymentTarget = (*Deployment)(nil)

// Load loads a spec's compose project and checks that a swarm can run it.
// It never contacts an engine.
func Load(ctx context.Context, spec target.SwarmSpec, engines Engines) (*Deployment, error) {
	if spec.Images == "" {
		spec.Images = target.ImagesPull
	}
	project, err := compose.Load(ctx, spec.ComposeSpec)
	if err != nil {
		return nil, err
	}
	warnings, err := validateProject(project)
	if err != nil {
		return nil, err
	}
	return &Deployment{spec: spec, project: project, engines: engines, warnings: warnings}, nil
}

func (d *Deployment) Kind() string    { return Kind }
func (d *Deployment) Project() string { return d.project.Name }

// Describe returns the static model of the project.
func (d *Deployment) Describe() target.Description {
	return compose.Describe(Kind, d.project, d.spec.ComposeSpec, func(_ *types.Project, s types.ServiceConfig) string { return s.Image })
}

// Compose returns the loaded compose project. Callers must not modify it.
func (d *Deployment) Compose() *types.Project { return d.project }

// Warnings are the keys validation found ignorable on a swarm.
func (d *Deployment) Warnings() []string {
	names := d.project.ServiceNames()
	target.SortNatural(names)
	var out []string
	for _, name := range names {
		out = append(out, d.warnings[name]...)
	}
	return out
}

// manager is the engine of the manager the spec names.
func (d *Deployment) manager() *dockerapi.Engine { return d.engines.Dial(d.spec.Endpoint) }
