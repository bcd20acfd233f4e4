package engine

import (
	"context"
	"strings"
	"time"

	gostarlark "go.starlark.net/starlark"

	"github.com/opdeploy/opdeploy/starlark"
	"github.com/opdeploy/opdeploy/target"
)

// services() -> list of the active service names, in natural order.
func (r *runner) services(_ *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
	if err := gostarlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	var out []gostarlark.Value
	for _, n := range r.subject.Target.Describe().ServiceNames() {
		out = append(out, gostarlark.String(n))
	}
	return gostarlark.NewList(out), nil
}

// containers(service) -> list of struct(name, number, state, health, exit_code, ready).
func (r *runner) containers(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
	var svc string
	if err := gostarlark.UnpackArgs(b.Name(), args, kwargs, "service", &svc); err != nil {
		return nil, err
	}
	return r.step(t, "containers", svc, svc, 0, func(ctx context.Context) (gostarlark.Value, error) {
		list, err := r.op.Containers(ctx, svc)
		if err != nil {
			return nil, err
		}
		var out []gostarlark.Value
		for _, s := range list {
			out = append(out, statusStruct(s))
		}
		return gostarlark.NewList(out), nil
	})
}

// status() -> struct(all_healthy, services = [struct(...)]).
func (r *runner) status(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
	if err := gostarlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
		return nil, err
	}
	return r.step(t, "status", "", "", 0, func(ctx context.Context) (gostarlark.Value, error) {
		st, err := r.subject.Target.Status(ctx, target.StatusOptions{})
		if err != nil {
			return nil, err
		}
		var list []gostarlark.Value
		for _, s := range st.Services {
			list = append(list, statusStruct(s))
		}
		return structOf(gostarlark.StringDict{"all_healthy": gostarlark.Bool(st.AllHealthy), "services": gostarlark.NewList(list)}), nil
	})
}

// up(services = None, timeout = "5m")
func (r *runner) up(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
	var services starlark.Names
	timeout := starlark.Duration{D: 5 * time.Minute}
	if err := gostarlark.UnpackArgs(b.Name(), args, kwargs, "services?", &services, "timeout?", &timeout); err != nil {
		return nil, err
	}
	return r.step(t, "up", strings.Join(services, " "), first(services), 0, func(ctx context.Context) (gostarlark.Value, error) {
		return nil, r.subject.Up(ctx, target.UpOptions{Services: services, Timeout: timeout.D})
	})
}

// down(volumes = False)
func (r *runner) down(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
	var volumes bool
	if err := gostarlark.UnpackArgs(b.Name(), args, kwargs, "volumes?", &volumes); err != nil {
		return nil, err
	}
	return r.step(t, "down", "", "", 0, func(ctx context.Context) (gostarlark.Value, error) {
		return nil, r.subject.Target.Down(ctx, target.DownOptions{Volumes: volumes})
	})
}

// restart(service, timeout = "60s"): restart and wait until ready again.
func (r *runner) restart(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
	var services starlark.Names
	timeout := starlark.Duration{D: 60 * time.Second}
	if err := gostarlark.UnpackArgs(b.Name(), args, kwargs, "service", &services, "timeout?", &timeout); err != nil {
		return nil, err
	}
	return r.step(t, "restart", strings.Join(services, " "), first(services), 0, func(ctx context.Context) (gostarlark.Value, error) {
		return nil, r.subject.Target.Restart(ctx, target.RestartOptions{Services: services, Timeout: timeout.D})
	})
}

// stop(service, timeout = None): stop (SIGTERM, then SIGKILL after the grace period).
func (r *runner) stop(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
	var svc string
	var grace starlark.Duration
	if err := gostarlark.UnpackArgs(b.Name(), args, kwargs, "service", &svc, "timeout?", &grace); err != nil {
		return nil, err
	}
	return r.step(t, "stop", svc, svc, 0, func(ctx context.Context) (gostarlark.Value, error) {
		return nil, r.op.Stop(ctx, svc, grace.D)
	})
}

// simple builds a method that takes one service and performs one action.
func (r *runner) simple(name string, act func(ctx context.Context, svc string) error) builtinFunc {
	return func(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
		var svc string
		if err := gostarlark.UnpackArgs(b.Name(), args, kwargs, "service", &svc); err != nil {
			return nil, err
		}
		return r.step(t, name, svc, svc, 0, func(ctx context.Context) (gostarlark.Value, error) { return nil, act(ctx, svc) })
	}
}

// kill(service, signal = "SIGKILL")
func (r *runner) kill(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
	var svc string
	signal := "SIGKILL"
	if err := gostarlark.UnpackArgs(b.Name(), args, kwargs, "service", &svc, "signal?", &signal); err != nil {
		return nil, err
	}
	return r.step(t, "kill", svc+" "+signal, svc, 0, func(ctx context.Context) (gostarlark.Value, error) {
		return nil, r.op.Kill(ctx, svc, signal)
	})
}
