package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/opdeploy/opdeploy/target"
)

// NotSupportedError says that a kind of target cannot take an action. All
// such messages read alike, naming the action as the user wrote it and the
// target as the builtin that declared it:
// "ctx.drain is not supported by local_deployment",
// "fault is not supported by swarm_deployment".
type NotSupportedError struct {
	Action string // "ctx.drain", "fault"
	Kind   string // "local_deployment"
}

func (e *NotSupportedError) Error() string {
	return fmt.Sprintf("%s is not supported by %s", e.Action, e.Kind)
}

// Is makes errors.Is(err, target.ErrNotSupported) hold for it too, so a
// caller need test only the one sentinel.
func (e *NotSupportedError) Is(err error) bool { return err == target.ErrNotSupported }

// notSupported is the error for an action the subject's target cannot take.
func (s *Subject) notSupported(action string) error {
	return &NotSupportedError{Action: action, Kind: deploymentKind(s.Target)}
}

// deploymentKind names a target by the builtin that declares it: the name
// a user wrote in the subject file.
func deploymentKind(t target.DeploymentTarget) string { return t.Kind() + "_deployment" }

// unsupportedOperator stands in for the Operator of a target without one,
// so that a Starlark check's ctx actions fail with the uniform message
// (through runStep) instead of calling through a nil interface.
type unsupportedOperator struct{}

var _ target.Operator = unsupportedOperator{}

func (unsupportedOperator) Containers(context.Context, string) ([]target.ServiceStatus, error) {
	return nil, target.ErrNotSupported
}
func (unsupportedOperator) Stop(context.Context, string, time.Duration) error {
	return target.ErrNotSupported
}
func (unsupportedOperator) Start(context.Context, string) error        { return target.ErrNotSupported }
func (unsupportedOperator) Kill(context.Context, string, string) error { return target.ErrNotSupported }
func (unsupportedOperator) Pause(context.Context, string) error        { return target.ErrNotSupported }
func (unsupportedOperator) Unpause(context.Context, string) error      { return target.ErrNotSupported }
func (unsupportedOperator) Exec(context.Context, string, []string) (target.ExecResult, error) {
	return target.ExecResult{}, target.ErrNotSupported
}
func (unsupportedOperator) Disconnect(context.Context, string) error { return target.ErrNotSupported }
func (unsupportedOperator) Connect(context.Context, string) error    { return target.ErrNotSupported }
func (unsupportedOperator) WaitHealthy(context.Context, []string, time.Duration) error {
	return target.ErrNotSupported
}
func (unsupportedOperator) Endpoint(context.Context, string, int) (string, error) {
	return "", target.ErrNotSupported
}
func (unsupportedOperator) LogTail(context.Context, string, int) []string { return nil }
