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
// that it is not silently ignored: volume subpaths need API 1.45.
func checkEngineSupport(s types.ServiceConfig, apiVersion string) error {
	for _, v := range s.Volumes {
		if v.Volume != nil && v.Volume.Subpath != "" && apiBefore(apiVersion, "1.45") {
			return fmt.Errorf("service %q: volume %s: subpath needs engine API 1.45; this engine speaks %s", s.Name, v.Target, apiVersion)
		}
	}
	return nil
}
