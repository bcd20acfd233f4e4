package engine

import (
	"context"
	"fmt"

	"github.com/opdeploy/opdeploy/target"
)

// faulter returns the subject's target as a Faulter, or says that its kind
// of target cannot do faults; what names the action ("ctx.delay", "fault").
func (s *Subject) faulter(what string) (target.Faulter, error) {
	f, ok := s.Target.(target.Faulter)
	if !ok {
		return nil, fmt.Errorf("%s is not supported by %s targets", what, s.Target.Kind())
	}
	return f, nil
}

// ApplyFault applies a fault from outside a sequence (`opdeploy fault`).
// It stays in force until healed.
func (s *Subject) ApplyFault(ctx context.Context, spec target.FaultSpec) ([]target.Fault, error) {
	f, err := s.faulter("fault")
	if err != nil {
		return nil, err
	}
	if err := spec.Validate(s.Target.Describe().ServiceNames()); err != nil {
		return nil, err
	}
	return f.Apply(ctx, spec)
}

// HealFaults removes faults (`opdeploy heal`).
func (s *Subject) HealFaults(ctx context.Context, opts target.HealOptions) ([]target.Fault, error) {
	f, err := s.faulter("heal")
	if err != nil {
		return nil, err
	}
	return f.Heal(ctx, opts)
}

// Faults lists the faults in force; a target that cannot make faults has
// none.
func (s *Subject) Faults(ctx context.Context) ([]target.Fault, error) {
	f, ok := s.Target.(target.Faulter)
	if !ok {
		return nil, nil
	}
	return f.Faults(ctx)
}
