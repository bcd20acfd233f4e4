package engine

import (
	"context"
	"errors"

	"github.com/opdeploy/opdeploy/target"
)

// faulter returns the subject's target as a Faulter, or says that its kind
// of target cannot do faults; what names the action ("ctx.delay", "fault").
func (s *Subject) faulter(what string) (target.Faulter, error) {
	f, ok := s.Target.(target.Faulter)
	if !ok {
		return nil, s.notSupported(what)
	}
	return f, nil
}

// faultErr gives a Faulter's ErrNotSupported (a kind of fault the target
// cannot make) the uniform message.
func (s *Subject) faultErr(what string, err error) error {
	if errors.Is(err, target.ErrNotSupported) {
		return s.notSupported(what)
	}
	return err
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
	faults, err := f.Apply(ctx, spec)
	return faults, s.faultErr("fault", err)
}

// HealFaults removes faults (`opdeploy heal`).
func (s *Subject) HealFaults(ctx context.Context, opts target.HealOptions) ([]target.Fault, error) {
	f, err := s.faulter("heal")
	if err != nil {
		return nil, err
	}
	faults, err := f.Heal(ctx, opts)
	return faults, s.faultErr("heal", err)
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
