package compose

import (
	"sort"
	"time"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/opdeploy/opdeploy/target"
)

// Describe is the static model of a loaded project, as `opdeploy config`
// shows it, for a target of kind. imageOf says which image a service
// runs on that target.
func Describe(kind string, p *types.Project, spec target.ComposeSpec, imageOf func(*types.Project, types.ServiceConfig) string) target.Description {
	desc := target.Description{
		Kind:         kind,
		Project:      p.Name,
		ComposeFiles: append([]string(nil), spec.ComposeFiles...),
		WorkingDir:   p.WorkingDir,
		Profiles:     append([]string(nil), spec.Profiles...),
	}
	names := p.ServiceNames()
	target.SortNatural(names)
	for _, name := range names {
		desc.Services = append(desc.Services, describeService(p, p.Services[name], imageOf))
	}
	if len(p.DisabledServices) > 0 {
		desc.Inactive = map[string][]string{}
		for name, svc := range p.DisabledServices {
			desc.Inactive[name] = append([]string(nil), svc.Profiles...)
		}
	}
	return desc
}

func describeService(p *types.Project, s types.ServiceConfig, imageOf func(*types.Project, types.ServiceConfig) string) target.ServiceSpec {
	spec := target.ServiceSpec{
		Name:       s.Name,
		Image:      imageOf(p, s),
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
			Interval:      DurationOf(hc.Interval),
			Timeout:       DurationOf(hc.Timeout),
			StartPeriod:   DurationOf(hc.StartPeriod),
			StartInterval: DurationOf(hc.StartInterval),
			Disabled:      hc.Disable,
		}
		if hc.Retries != nil {
			spec.Healthcheck.Retries = *hc.Retries
		}
	}
	return spec
}

// DurationOf is a compose duration, zero when unset.
func DurationOf(d *types.Duration) time.Duration {
	if d == nil {
		return 0
	}
	return time.Duration(*d)
}

// Environment renders a service's resolved environment as KEY=value,
// sorted; a variable with no value (unset in every source) is left out,
// as compose does.
func Environment(s types.ServiceConfig) []string {
	var env []string
	for k, v := range s.Environment {
		if v != nil {
			env = append(env, k+"="+*v)
		}
	}
	sort.Strings(env)
	return env
}
