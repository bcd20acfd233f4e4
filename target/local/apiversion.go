package local

import (
	"fmt"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// apiBefore reports whether API version v is older than want.
func apiBefore(v, want string) bool { return dockerapi.APIBefore(v, want) }

// checkEngineSupport rejects what the engine's API version cannot do, so
// that it is not silently ignored: volume subpaths need API 1.45,
// annotations 1.43, and a network without IPv4 1.47.
func checkEngineSupport(p *types.Project, s types.ServiceConfig, apiVersion string) error {
	for _, v := range s.Volumes {
		if v.Volume != nil && v.Volume.Subpath != "" && apiBefore(apiVersion, "1.45") {
			return fmt.Errorf("service %q: volume %s: subpath needs engine API 1.45; this engine speaks %s", s.Name, v.Target, apiVersion)
		}
	}
	if len(s.Annotations) > 0 && apiBefore(apiVersion, "1.43") {
		return fmt.Errorf("service %q: annotations need engine API 1.43; this engine speaks %s", s.Name, apiVersion)
	}
	for _, key := range sortedKeys(s.Networks) {
		if n, ok := p.Networks[key]; ok && !bool(n.External) && n.EnableIPv4 != nil && !*n.EnableIPv4 && apiBefore(apiVersion, "1.47") {
			return fmt.Errorf("network %q: enable_ipv4: false needs engine API 1.47; this engine speaks %s", key, apiVersion)
		}
	}
	return nil
}
