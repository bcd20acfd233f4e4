package target

import (
	"context"
	"time"
)

// Operator is what checks and operational sequences need beyond the
// lifecycle verbs: acting on one service's containers, running commands in
// them, cutting them off the network, and reaching their ports. A target
// that cannot do these does not implement it, and `opdeploy run` says so.
// Every action applies to all replicas of the service unless it says
// otherwise.
type Operator interface {
	Containers(ctx context.Context, service string) ([]ServiceStatus, error)
	Stop(ctx context.Context, service string, timeout time.Duration) error
	Start(ctx context.Context, service string) error
	Kill(ctx context.Context, service, signal string) error
	Pause(ctx context.Context, service string) error
	Unpause(ctx context.Context, service string) error
	// Exec runs a command in the service's first running replica.
	Exec(ctx context.Context, service string, command []string) (ExecResult, error)
	// Disconnect cuts the service's containers off every project network;
	// Connect restores them, with their aliases.
	Disconnect(ctx context.Context, service string) error
	Connect(ctx context.Context, service string) error
	// WaitHealthy waits, driven by events, until the services are ready.
	WaitHealthy(ctx context.Context, services []string, timeout time.Duration) error
	// Endpoint returns a host:port on this machine that reaches the
	// service's first running replica on a container port (docs/checks.md).
	Endpoint(ctx context.Context, service string, port int) (string, error)
	// LogTail returns the last n log lines of the service's first replica.
	LogTail(ctx context.Context, service string, n int) []string
}

// ExecResult is what a command run in a container did.
type ExecResult struct {
	ExitCode int
	Stdout   string
	Stderr   string
}
