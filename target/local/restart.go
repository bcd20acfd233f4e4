package local

import (
	"context"
	"fmt"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/client"
	"golang.org/x/sync/errgroup"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// Restart restarts the services' containers in parallel and, unless
// NoWait, waits (event-driven) until each has started again and is ready.
func (d *Deployment) Restart(ctx context.Context, opts target.RestartOptions) error {
	progress := target.OrNoProgress(opts.Progress)
	if len(opts.Services) == 0 {
		return fmt.Errorf("restart: name at least one service")
	}
	services, err := d.namedServices(opts.Services)
	if err != nil {
		return err
	}
	sess, err := d.open(ctx, progress, sessionNeeds{lock: true, monitor: true})
	if err != nil {
		return err
	}
	defer sess.close()
	cli, mon := sess.cli, sess.mon
	// The named services first; then, round by round, the services that
	// declare depends_on with restart: true on one just restarted, as
	// compose does, each round once the previous one is ready.
	done := map[string]bool{}
	for round := services; len(round) > 0; round = d.restartDependents(round, done) {
		for _, s := range round {
			done[s.Name] = true
		}
		if err := d.restartRound(ctx, cli, mon, progress, round, opts); err != nil {
			return err
		}
	}
	return nil
}

// restartDependents lists the services not restarted yet that depend on
// one of round with restart: true.
func (d *Deployment) restartDependents(round []types.ServiceConfig, done map[string]bool) []types.ServiceConfig {
	var next []types.ServiceConfig
	for _, name := range d.project.ServiceNames() {
		s := d.project.Services[name]
		if done[name] {
			continue
		}
		for _, r := range round {
			if dep, ok := s.DependsOn[r.Name]; ok && dep.Restart {
				next = append(next, s)
				break
			}
		}
	}
	return next
}

func (d *Deployment) restartRound(ctx context.Context, cli dockerapi.API, mon *monitor, progress target.Progress, services []types.ServiceConfig, opts target.RestartOptions) error {
	x := d.waitExecutor(cli, mon, progress, services, true)
	for _, s := range services {
		if len(x.current[s.Name]) == 0 {
			return fmt.Errorf("service %q has no containers in project %q; run up first", s.Name, d.project.Name)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, s := range services {
		for _, id := range x.current[s.Name] {
			g.Go(func() error {
				name := x.containerName(id)
				x.event(target.Container(name), s.Name, target.ActionRestarting, "", false, nil)
				if _, err := cli.ContainerRestart(gctx, id, client.ContainerRestartOptions{}); err != nil {
					return fmt.Errorf("restart %s: %w", name, err)
				}
				x.event(target.Container(name), s.Name, target.ActionRestarted, "", true, nil)
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		return err
	}
	if opts.NoWait {
		return nil
	}
	return x.waitReady(ctx, services, opts.Timeout)
}
