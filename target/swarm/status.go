package swarm

import (
	"context"
	"time"

	"github.com/opdeploy/opdeploy/target"
)

// Status reports one row per task that should run, with the verdict.
func (d *Deployment) Status(ctx context.Context, opts target.StatusOptions) (*target.DeploymentStatus, error) {
	services, _, obs, err := d.look(ctx, opts.Services)
	if err != nil {
		return nil, err
	}
	rows := d.rows(obs, services, time.Now())
	for _, o := range obs.orphans {
		rows = append(rows, target.ServiceStatus{Service: o.Spec.Labels[labelService], Container: o.Spec.Name, State: target.StateRunning,
			Health: target.HealthNone, Reason: "orphan"})
	}
	return &target.DeploymentStatus{Project: d.project.Name, Services: rows, AllHealthy: allReady(rows)}, nil
}
