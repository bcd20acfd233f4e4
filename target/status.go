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
	// StateMissing is a replica the deployment declares that has no
	// container: removed behind opdeploy's back, or never created.
	StateMissing State = "missing"
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

// ServiceStatus is the observed state of one replica of a service: a
// container, or a declared replica that has none (StateMissing).
type ServiceStatus struct {
	Service   string
	Container string // "" when missing
	Number    int    // replica number, from 1
	// Node is the machine the replica runs on, for multi-node targets
	// ("" on the local engine).
	Node      string
	State     State
	Health    Health
	ExitCode  int
	Ports     []PortBinding
	Image     string
	StartedAt time.Time
	// Ready says whether this replica counts towards a healthy deployment,
	// by the rule docs/compose.md states ("When a service is ready"): the
	// same rule up and wait_healthy wait on.
	Ready bool
	// Reason says why the replica is not ready ("exited with code 137",
	// "unhealthy: …", "missing: …"), or notes what it is ("completed" for a
	// one-shot job that finished, "orphan" for a container of a service the
	// project no longer has). Empty for a ready long-running replica.
	Reason string
	// Counted is false for containers that are listed but play no part in
	// the verdict: orphans, replicas beyond the declared count, duplicates.
	Counted bool
}

// SettleWindow is how long a container without a healthcheck must keep
// running before it counts as ready. A program that crashes at once, or
// after a short start-up, would otherwise be called ready in the moment
// between its start and its exit (docker compose has that hole).
const SettleWindow = time.Second

// DeploymentStatus is the observed state of a whole deployment.
type DeploymentStatus struct {
	Project  string
	Services []ServiceStatus
	// AllHealthy is true only when every replica the deployment declares
	// is ready (ServiceStatus.Ready). An empty deployment is not healthy.
	AllHealthy bool
}
