package local

import (
	"fmt"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/opdeploy/opdeploy/target"
)

// selectServices returns the named services and everything they depend on
// (all active services when names is empty), in natural order.
func (d *Deployment) selectServices(names []string) ([]types.ServiceConfig, error) {
	if len(names) == 0 {
		names = d.project.ServiceNames()
	}
	seen := map[string]bool{}
	var visit func(name, from string) error
	visit = func(name, from string) error {
		if seen[name] {
			return nil
		}
		s, ok := d.project.Services[name]
		if !ok {
			if _, disabled := d.project.DisabledServices[name]; !disabled && from != "" {
				return fmt.Errorf("service %q depends on %q, which is not in project %q", from, name, d.project.Name)
			}
			return d.unknownService(name)
		}
		seen[name] = true
		for dep, cfg := range s.DependsOn {
			if _, ok := d.project.Services[dep]; !ok && !cfg.Required {
				continue
			}
			if err := visit(dep, name); err != nil {
				return err
			}
		}
		return nil
	}
	for _, n := range names {
		if err := visit(n, ""); err != nil {
			return nil, err
		}
	}
	selected := make([]string, 0, len(seen))
	for n := range seen {
		selected = append(selected, n)
	}
	target.SortNatural(selected)
	out := make([]types.ServiceConfig, len(selected))
	for i, n := range selected {
		out[i] = d.project.Services[n]
	}
	return out, nil
}

// healthcheckDeclared says whether a service's containers have a
// healthcheck, when the compose file decides it: declared, or disabled.
// Otherwise (known false) the image decides.
func (d *Deployment) healthcheckDeclared(service string) (healthcheck, known bool) {
	s, ok := d.project.Services[service]
	if !ok || s.HealthCheck == nil {
		return false, false
	}
	return !s.HealthCheck.Disable, true
}

// resources lists the networks and volumes the services need and that
// opdeploy manages (external ones must exist), by engine name, with their
// config hashes.
func (d *Deployment) resources(services []types.ServiceConfig) (networks, volumes []desiredResource, err error) {
	nets, vols := map[string]string{}, map[string]string{} // engine name -> compose key
	for _, s := range services {
		if s.NetworkMode == "" {
			for key := range s.Networks {
				if n, ok := d.project.Networks[key]; ok && !bool(n.External) {
					nets[n.Name] = key
				}
			}
		}
		for _, v := range s.Volumes {
			if v.Type == types.VolumeTypeVolume && v.Source != "" {
				if vol, ok := d.project.Volumes[v.Source]; ok && !bool(vol.External) {
					vols[vol.Name] = v.Source
				}
			}
		}
	}
	for _, name := range sortedKeys(nets) {
		hash, err := resourceHash(d.project.Networks[nets[name]])
		if err != nil {
			return nil, nil, err
		}
		networks = append(networks, desiredResource{Key: nets[name], Name: name, Hash: hash})
	}
	for _, name := range sortedKeys(vols) {
		hash, err := resourceHash(d.project.Volumes[vols[name]])
		if err != nil {
			return nil, nil, err
		}
		volumes = append(volumes, desiredResource{Key: vols[name], Name: name, Hash: hash})
	}
	return networks, volumes, nil
}

// service returns the active service with that name; for any other name,
// the one error every verb gives.
func (d *Deployment) service(name string) (types.ServiceConfig, error) {
	if s, ok := d.project.Services[name]; ok {
		return s, nil
	}
	return types.ServiceConfig{}, d.unknownService(name)
}

func (d *Deployment) unknownService(name string) error {
	if s, disabled := d.project.DisabledServices[name]; disabled {
		return fmt.Errorf("service %q is not active in project %q (enable its profile with --profile %s)", name, d.project.Name, strings.Join(s.Profiles, " or --profile "))
	}
	return fmt.Errorf("no service %q in project %q (services: %s)", name, d.project.Name, strings.Join(d.Describe().ServiceNames(), ", "))
}

// networksOf lists the engine names of the networks a service's containers
// are attached to: none when they use the host's or another container's
// network namespace.
func (d *Deployment) networksOf(s types.ServiceConfig) []string {
	if s.NetworkMode != "" {
		return nil
	}
	var out []string
	for _, key := range sortedKeys(s.Networks) {
		if n, ok := d.project.Networks[key]; ok {
			out = append(out, n.Name)
		}
	}
	return out
}

// missingNetworks lists the networks of want a container is not attached
// to: it was disconnected behind opdeploy's back, or by ctx.disconnect.
func missingNetworks(want, attached []string) []string {
	on := map[string]bool{}
	for _, n := range attached {
		on[n] = true
	}
	var out []string
	for _, n := range want {
		if !on[n] {
			out = append(out, n)
		}
	}
	return out
}
