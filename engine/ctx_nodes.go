package engine

import (
	"context"

	gostarlark "go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/opdeploy/opdeploy/starlark"
	"github.com/opdeploy/opdeploy/target"
)

// Nodes of a multi-node target (a swarm): list them, and drain one or make
// it active again. A target without nodes says so before any step.

// nodeOperator returns the target's NodeOperator, or the not-supported
// error for the ctx method that needed it.
func (r *runner) nodeOperator(b *gostarlark.Builtin) (target.NodeOperator, error) {
	no, ok := r.subject.Target.(target.NodeOperator)
	if !ok {
		return nil, r.subject.notSupported(b.Name())
	}
	return no, nil
}

// nodes() -> list of struct(id, hostname, role, leader, state, availability, addr)
func (r *runner) nodes(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
	if err := gostarlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	no, err := r.nodeOperator(b)
	if err != nil {
		return nil, err
	}
	return r.step(t, "nodes", "", "", 0, func(ctx context.Context) (gostarlark.Value, error) {
		list, err := no.Nodes(ctx)
		if err != nil {
			return nil, err
		}
		out := make([]gostarlark.Value, 0, len(list))
		for _, n := range list {
			out = append(out, nodeStruct(n))
		}
		return gostarlark.NewList(out), nil
	})
}

func nodeStruct(n target.Node) *starlarkstruct.Struct {
	return structOf(gostarlark.StringDict{
		"id":           gostarlark.String(n.ID),
		"hostname":     gostarlark.String(n.Hostname),
		"role":         gostarlark.String(n.Role),
		"leader":       gostarlark.Bool(n.Leader),
		"state":        gostarlark.String(n.State),
		"availability": gostarlark.String(n.Availability),
		"addr":         gostarlark.String(n.Addr),
	})
}

// availability builds drain(node) and activate(node): set the node's
// availability. Neither waits for tasks to move; ctx.wait_healthy does.
func (r *runner) availability(name, availability string) builtinFunc {
	return func(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
		var node starlark.NonEmptyString
		if err := gostarlark.UnpackArgs(b.Name(), args, kwargs, "node", &node); err != nil {
			return nil, err
		}
		no, err := r.nodeOperator(b)
		if err != nil {
			return nil, err
		}
		return r.step(t, name, string(node), "", 0, func(ctx context.Context) (gostarlark.Value, error) {
			return nil, no.SetAvailability(ctx, string(node), availability)
		})
	}
}
