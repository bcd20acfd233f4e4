package swarm

import (
	"fmt"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/opdeploy/opdeploy/target"
)

// unsupportedKeys are compose keys a swarm service cannot honour: an error
// naming the key and the service, where `docker stack deploy` ignores
// them silently.
var unsupportedKeys = map[string]string{
	"build":          "swarm nodes run images; build it locally and use images = \"load\"",
	"container_name": "a swarm names its tasks' containers itself",
	"privileged":     "swarm services cannot run privileged",
}

// validateProject checks that a swarm can run every service as declared.
func validateProject(p *types.Project) (map[string][]string, error) {
	names := p.ServiceNames()
	target.SortNatural(names)
	for _, name := range names {
		s := p.Services[name]
		for key, why := range unsupportedKeys {
			if set(s, key) {
				return nil, fmt.Errorf("service %q: %s is not supported by swarm_deployment: %s", name, key, why)
			}
		}
	}
	return map[string][]string{}, nil
}

// set says whether a service sets a compose key.
func set(s types.ServiceConfig, key string) bool {
	switch key {
	case "build":
		return s.Build != nil
	case "container_name":
		return s.ContainerName != ""
	case "privileged":
		return s.Privileged
	}
	return false
}
