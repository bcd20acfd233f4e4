// Package target defines what a deployment target is: the lifecycle
// operations every engine offers (DeploymentTarget), the finer actions
// that operational sequences need (Operator), and the values they
// exchange. It knows nothing about Starlark or about any one engine.
package target

import (
	"context"
	"time"
)

// DeploymentTarget is a deployable system: a compose project on the local
// Docker engine today, other engines later. Methods that change state take
// a context so that Ctrl-C stops them promptly.
type DeploymentTarget interface {
	// Kind names the engine, as `opdeploy config` shows it ("local").
	Kind() string
	// Project is the name every resource of this deployment carries.
	Project() string
	// Describe returns the static model of what the target would run.
	// It never contacts the engine.
	Describe() Description

	Up(ctx context.Context, opts UpOptions) error
	Down(ctx context.Context, opts DownOptions) error
	Status(ctx context.Context, opts StatusOptions) (*DeploymentStatus, error)
	Logs(ctx context.Context, opts LogsOptions) error
	Restart(ctx context.Context, opts RestartOptions) error
}

// UpOptions controls DeploymentTarget.Up.
type UpOptions struct {
	Progress      Progress
	Services      []string      // only these services (and their dependencies); empty means all
	NoWait        bool          // return once containers are started
	Timeout       time.Duration // how long to wait for health; zero means no limit
	ForceRecreate bool
	NoRecreate    bool
	RemoveOrphans bool
	Build         bool
	DryRun        bool
}

// DownOptions controls DeploymentTarget.Down.
type DownOptions struct {
	Progress      Progress
	Volumes       bool          // also remove named volumes
	Timeout       time.Duration // stop grace period override; zero means each service's own
	RemoveOrphans bool
}

// StatusOptions controls DeploymentTarget.Status.
type StatusOptions struct {
	Services []string
}

// LogsOptions controls DeploymentTarget.Logs.
type LogsOptions struct {
	Sink       LogSink
	Services   []string
	Follow     bool
	Tail       int // lines from the end; negative means all
	Since      string
	Timestamps bool
}

// RestartOptions controls DeploymentTarget.Restart.
type RestartOptions struct {
	Progress Progress
	Services []string
	NoWait   bool
	Timeout  time.Duration
}
