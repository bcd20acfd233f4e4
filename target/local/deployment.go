package local

import (
	"context"
	"sort"
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
	desc := target.Description{
		Kind:         Kind,
		Project:      d.project.Name,
		ComposeFiles: append([]string(nil), d.spec.ComposeFiles...),
		WorkingDir:   d.project.WorkingDir,
		Profiles:     append([]string(nil), d.spec.Profiles...),
	}
	names := d.project.ServiceNames()
	target.SortNatural(names)
	for _, name := range names {
		desc.Services = append(desc.Services, describeService(d.project, d.project.Services[name]))
	}
	if len(d.project.DisabledServices) > 0 {
		desc.Inactive = map[string][]string{}
		for name, svc := range d.project.DisabledServices {
			desc.Inactive[name] = append([]string(nil), svc.Profiles...)
		}
	}
	return desc
}

func describeService(p *types.Project, s types.ServiceConfig) target.ServiceSpec {
	spec := target.ServiceSpec{
		Name:       s.Name,
		Image:      imageName(p, s),
		Build:      s.Build != nil,
		Entrypoint: append([]string(nil), s.Entrypoint...),
		Command:    append([]string(nil), s.Command...),
		Replicas:   s.GetScale(),
		Profiles:   append([]string(nil), s.Profiles...),
	}
	for _, port := range s.Ports {
		spec.Ports = append(spec.Ports, target.PortSpec{
			HostIP: port.HostIP, Published: port.Published, Target: port.Target, Protocol: port.Protocol,
		})
	}
	deps := make([]string, 0, len(s.DependsOn))
	for name := range s.DependsOn {
		deps = append(deps, name)
	}
	sort.Strings(deps)
	for _, name := range deps {
		dep := s.DependsOn[name]
		spec.DependsOn = append(spec.DependsOn, target.Dependency{
			Service: name, Condition: dep.Condition, Required: dep.Required, Restart: dep.Restart,
		})
	}
	if hc := s.HealthCheck; hc != nil {
		spec.Healthcheck = &target.Healthcheck{
			Test:          append([]string(nil), hc.Test...),
			Interval:      durationOf(hc.Interval),
			Timeout:       durationOf(hc.Timeout),
			StartPeriod:   durationOf(hc.StartPeriod),
			StartInterval: durationOf(hc.StartInterval),
			Disabled:      hc.Disable,
		}
		if hc.Retries != nil {
			spec.Healthcheck.Retries = *hc.Retries
		}
	}
	return spec
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

// orNoProgress returns p, or a Progress that discards events.
func orNoProgress(p target.Progress) target.Progress {
	if p == nil {
		return target.NoProgress
	}
	return p
}
