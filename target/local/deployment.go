package local

import (
	"context"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/compose"
	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// Deployment is a LocalDeployment: a loaded compose project and the spec it
// came from.
type Deployment struct {
	spec    target.LocalSpec
	project *types.Project
	engine  *dockerapi.Engine
	// warnings are, by service, the keys validation found ignorable; up
	// reports them.
	warnings map[string][]string
	// oneShot holds the services declared to run to completion (oneshot.go).
	oneShot map[string]bool
}

var _ target.DeploymentTarget = (*Deployment)(nil)

// Load loads a spec's compose project into a Deployment that runs on
// engine. Loading validates (validate.go) but never contacts the engine.
func Load(ctx context.Context, spec target.LocalSpec, engine *dockerapi.Engine) (*Deployment, error) {
	project, err := compose.Load(ctx, spec.ComposeSpec)
	if err != nil {
		return nil, err
	}
	warnings, err := validateProject(project)
	if err != nil {
		return nil, err
	}
	return &Deployment{spec: spec, project: project, engine: engine, warnings: warnings, oneShot: oneShotServices(project)}, nil
}

// Warnings are what `up` would warn about, found when the project was
// loaded: keys it ignores, and secrets or configs the host lacks (up
// refuses to start without them). validate prints them.
func (d *Deployment) Warnings() []string {
	names := d.project.ServiceNames()
	target.SortNatural(names)
	var out []string
	for _, name := range names {
		out = append(out, d.warnings[name]...)
		for _, m := range missingFiles(d.project, d.project.Services[name]) {
			out = append(out, m+" (up refuses to start without it)")
		}
	}
	return out
}

// Compose returns the loaded compose project. Callers must not modify it.
func (d *Deployment) Compose() *types.Project { return d.project }

func (d *Deployment) Kind() string    { return Kind }
func (d *Deployment) Project() string { return d.project.Name }

// Describe returns the static model of the project.
func (d *Deployment) Describe() target.Description {
	return compose.Describe(Kind, d.project, d.spec.ComposeSpec, imageName)
}

// imageName is the image a service runs: its own, or for a service that is
// only built, the name docker compose gives the build (project-service).
func imageName(p *types.Project, s types.ServiceConfig) string {
	if s.Image != "" {
		return s.Image
	}
	return p.Name + "-" + s.Name
}

func durationOf(d *types.Duration) time.Duration {
	if d == nil {
		return 0
	}
	return time.Duration(*d)
}
