package target

import "time"

// State is a container's lifecycle state, as the engine reports it.
type State string

const (
	StateCreated    State = "created"
	StateRunning    State = "running"
	StatePaused     State = "paused"
	StateRestarting State = "restarting"
	StateExited     State = "exited"
	StateDead       State = "dead"
)

// Health is the result of a container's own healthcheck.
type Health string

const (
	HealthHealthy   Health = "healthy"
	HealthUnhealthy Health = "unhealthy"
	HealthStarting  Health = "starting"
	HealthNone      Health = "none" // the container has no healthcheck
)

// PortBinding is one published port of a running container.
type PortBinding struct {
	HostIP        string
	HostPort      uint16
	ContainerPort uint16
	Protocol      string // "tcp" or "udp"
}

// ServiceStatus is the observed state of one container of a service.
type ServiceStatus struct {
	Service   string
	Container string
	Number    int // replica number, from 1
	State     State
	Health    Health
	ExitCode  int
	Ports     []PortBinding
	Image     string
	StartedAt time.Time
}

// Ready reports whether this container counts towards a healthy
// deployment: running, and healthy or without a healthcheck.
func (s ServiceStatus) Ready() bool {
	return s.State == StateRunning && (s.Health == HealthHealthy || s.Health == HealthNone)
}

// DeploymentStatus is the observed state of a whole deployment.
type DeploymentStatus struct {
	Project  string
	Services []ServiceStatus
	// AllHealthy is true only when every expected service has all its
	// replicas running and healthy-or-without-healthcheck. An empty
	// deployment is not healthy.
	AllHealthy bool
}
