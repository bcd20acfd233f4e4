package target

import "time"

// Description is the static model of a deployment: what would run, as
// resolved from the subject, before any engine is contacted. It is what
// `opdeploy config` prints.
type Description struct {
	Kind         string
	Project      string
	ComposeFiles []string // absolute paths, in merge order
	WorkingDir   string
	Profiles     []string // active profiles
	Services     []ServiceSpec
	// Inactive lists services that exist in the model but are disabled by
	// profiles, with the profiles that would enable them.
	Inactive map[string][]string
}

// ServiceSpec describes one service of a deployment.
type ServiceSpec struct {
	Name        string
	Image       string
	Build       bool // built from a context rather than pulled
	Entrypoint  []string
	Command     []string
	Ports       []PortSpec
	DependsOn   []Dependency
	Healthcheck *Healthcheck
	Replicas    int
	Profiles    []string
}

// PortSpec is a port a service publishes (or exposes) on the host.
type PortSpec struct {
	HostIP    string
	Published string // host port or range; empty means engine-assigned
	Target    uint32
	Protocol  string
}

// Dependency is one depends_on edge.
type Dependency struct {
	Service   string
	Condition string // service_started, service_healthy, service_completed_successfully
	Required  bool
	Restart   bool
}

// Healthcheck is a container's own healthcheck.
type Healthcheck struct {
	Test          []string
	Interval      time.Duration
	Timeout       time.Duration
	Retries       uint64
	StartPeriod   time.Duration
	StartInterval time.Duration
	Disabled      bool
}

// ServiceNames returns the names of the active services, in order.
func (d Description) ServiceNames() []string {
	names := make([]string, len(d.Services))
	for i, s := range d.Services {
		names[i] = s.Name
	}
	return names
}

// Service returns the active service with that name.
func (d Description) Service(name string) (ServiceSpec, bool) {
	for _, s := range d.Services {
		if s.Name == name {
			return s, true
		}
	}
	return ServiceSpec{}, false
}
