package local

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/opdeploy/opdeploy/target"
)

// validateProject checks everything `up` can know without a daemon, so
// that `validate` (and evaluation) reject what `up` would reject, at the
// local_deployment call. It returns, by service, warnings about keys
// ignored safely.
func validateProject(p *types.Project) (warnings map[string][]string, err error) {
	if len(p.Jobs) > 0 {
		return nil, fmt.Errorf("jobs are not supported by opdeploy yet (%s)", strings.Join(sortedKeys(p.Jobs), ", "))
	}
	names := p.ServiceNames()
	target.SortNatural(names)
	warnings = map[string][]string{}
	for _, name := range names {
		s := p.Services[name]
		for _, check := range []func() ([]string, error){
			func() ([]string, error) { return checkSupported(s) },
			func() ([]string, error) { return validateService(p, s) },
			func() ([]string, error) { return validateFiles(p, s) },
			func() ([]string, error) { return nil, validateValues(p, s) },
		} {
			w, err := check()
			warnings[name] = append(warnings[name], w...)
			if err != nil {
				return warnings, err
			}
		}
		if len(warnings[name]) == 0 {
			delete(warnings, name)
		}
	}
	if err := validateNetworks(p, names); err != nil {
		return warnings, err
	}
	if err := validateNames(p, names); err != nil {
		return warnings, err
	}
	if err := validateHealthyDependencies(p, names); err != nil {
		return warnings, err
	}
	if err := checkHostPorts(p, names); err != nil {
		return warnings, err
	}
	return warnings, nil
}

// hostPort is one fixed host port a service publishes.
type hostPort struct {
	service string
	ip      string // "" for every address
	port    int
	proto   string
}

// checkHostPorts rejects two services (or two ports of one service) that
// publish the same fixed host port: the engine would start the first and
// fail the second mid-way through `up`. Ranges are left to the engine,
// which picks a free port in them.
func checkHostPorts(p *types.Project, names []string) error {
	var seen []hostPort
	for _, name := range names {
		if p.Services[name].NetworkMode == "host" {
			continue // the engine ignores published ports on the host's network
		}
		for _, port := range p.Services[name].Ports {
			n, err := strconv.Atoi(port.Published)
			if err != nil {
				continue // engine-assigned, or a range
			}
			proto := port.Protocol
			if proto == "" {
				proto = "tcp"
			}
			hp := hostPort{service: name, ip: port.HostIP, port: n, proto: proto}
			for _, other := range seen {
				if other.port == hp.port && other.proto == hp.proto && addressesOverlap(other.ip, hp.ip) {
					where := fmt.Sprintf("services %q and %q both publish", other.service, hp.service)
					if other.service == hp.service {
						where = fmt.Sprintf("service %q publishes twice", hp.service)
					}
					return fmt.Errorf("%s host port %d/%s%s", where, hp.port, hp.proto, onAddress(other.ip, hp.ip))
				}
			}
			seen = append(seen, hp)
		}
	}
	return nil
}

// addressesOverlap reports whether two host IPs of published ports can
// collide: equal, or either one is every address.
func addressesOverlap(a, b string) bool {
	return a == b || unspecified(a) || unspecified(b)
}

func unspecified(ip string) bool { return ip == "" || ip == "0.0.0.0" || ip == "::" }

func onAddress(a, b string) string {
	for _, ip := range []string{a, b} {
		if !unspecified(ip) {
			return " on " + ip
		}
	}
	return ""
}
