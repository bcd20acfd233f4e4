package local

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

// apiBefore reports whether API version v is older than want ("1.41" < "1.44").
func apiBefore(v, want string) bool {
	if v == "" {
		return false
	}
	vMaj, vMin, _ := strings.Cut(v, ".")
	wMaj, wMin, _ := strings.Cut(want, ".")
	a, _ := strconv.Atoi(vMaj)
	b, _ := strconv.Atoi(wMaj)
	if a != b {
		return a < b
	}
	c, _ := strconv.Atoi(vMin)
	d, _ := strconv.Atoi(wMin)
	return c < d
}

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
