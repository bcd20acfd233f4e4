package swarm

import (
	"context"
	"errors"

	"github.com/opdeploy/opdeploy/target"
)

// errNotYet marks the verbs being built (issue 10); removed as each lands.
var errNotYet = errors.New("swarm_deployment: not implemented yet")

func (d *Deployment) Up(ctx context.Context, opts target.UpOptions) error     { return errNotYet }
func (d *Deployment) Down(ctx context.Context, opts target.DownOptions) error { return errNotYet }
func (d *Deployment) Status(ctx context.Context, opts target.StatusOptions) (*target.DeploymentStatus, error) {
	return nil, errNotYet
}
func (d *Deployment) Logs(ctx context.Context, opts target.LogsOptions) error       { return errNotYet }
func (d *Deployment) Restart(ctx context.Context, opts target.RestartOptions) error { return errNotYet }
