package target

import (
	"context"
	"errors"
)

// ErrNotSupported is what an Operator method returns for an action its
// kind of target cannot take; the engine turns it into
// "ctx.X is not supported by KIND_deployment" at the step's position.
var ErrNotSupported = errors.New("not supported by this target")

// Node is one machine of a multi-node target (a swarm node).
type Node struct {
	ID       string
	Hostname string
	// Role is "manager" or "worker"; Leader marks the manager that leads.
	Role   string
	Leader bool
	// State is the manager's view: "ready", "down", "unknown", "disconnected".
	State string
	// Availability is "active", "pause" or "drain".
	Availability string
	// Addr is the address the node's engine is reached at by opdeploy.
	Addr string
}

// NodeOperator is what a multi-node target offers beyond Operator: the
// list of its nodes and control over where work may be scheduled.
type NodeOperator interface {
	Nodes(ctx context.Context) ([]Node, error)
	// SetAvailability sets a node ("active", "pause" or "drain"), named by
	// hostname or ID. Draining moves its tasks elsewhere.
	SetAvailability(ctx context.Context, node, availability string) error
}
