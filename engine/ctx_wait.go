package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	gostarlark "go.starlark.net/starlark"

	"github.com/opdeploy/opdeploy/starlark"
	"github.com/opdeploy/opdeploy/target"
)

// wait_healthy(services, timeout = "60s")
func (r *runner) waitHealthy(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
	var services starlark.Names
	timeout := starlark.Duration{D: 60 * time.Second}
	if err := gostarlark.UnpackArgs(b.Name(), args, kwargs, "services", &services, "timeout?", &timeout); err != nil {
		return nil, err
	}
	// The target applies the timeout itself, so its failure explains which
	// container is not ready and why.
	return r.step(t, "wait_healthy", strings.Join(services, " "), first(services), 0, func(ctx context.Context) (gostarlark.Value, error) {
		return nil, r.op.WaitHealthy(ctx, services, timeout.D)
	})
}

// wait_until(fn, timeout = "60s", interval = "500ms"): call fn() until it
// returns a true value. An error from fn counts as "not yet"; the last one
// is reported if the time runs out.
func (r *runner) waitUntil(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
	var fn gostarlark.Callable
	timeout := starlark.Duration{D: 60 * time.Second}
	interval := starlark.Duration{D: 500 * time.Millisecond, Min: time.Millisecond}
	if err := gostarlark.UnpackArgs(b.Name(), args, kwargs, "fn", &fn, "timeout?", &timeout, "interval?", &interval); err != nil {
		return nil, err
	}
	return r.stepOnThread(t, "wait_until", fn.Name(), timeout.D, func(ctx context.Context) (gostarlark.Value, error) {
		var last error
		saved := r.ctx
		r.ctx = ctx
		r.quiet++
		// The wait's own timeout must stop Starlark code running in fn too,
		// not only the steps fn makes.
		fired := make(chan struct{})
		stopCancel := context.AfterFunc(ctx, func() { t.Cancel(context.Cause(ctx).Error()); close(fired) })
		defer func() {
			if !stopCancel() {
				<-fired // the cancel ran (or is running): let it finish first
			}
			r.ctx = saved
			r.quiet--
			if saved.Err() == nil {
				t.Uncancel() // the run goes on after a wait that timed out
			}
		}()
		for attempt := 1; ; attempt++ {
			v, err := gostarlark.Call(t, fn, nil, nil)
			if err == nil && v.Truth() {
				return gostarlark.MakeInt(attempt), nil
			}
			if err != nil {
				if ctx.Err() != nil && r.ctx.Err() != nil {
					return nil, waitUntilErr(ctx, last)
				}
				// Not "not yet": the target will never take the action.
				if errors.Is(err, target.ErrNotSupported) {
					return nil, err
				}
				last = err
				if ee, ok := err.(*gostarlark.EvalError); ok {
					last = fmt.Errorf("%s", ee.Msg)
				}
			} else {
				last = fmt.Errorf("%s returned %s", fn.Name(), v)
			}
			select {
			case <-ctx.Done():
				return nil, waitUntilErr(ctx, last)
			case <-time.After(interval.D):
			}
		}
	})
}

func waitUntilErr(ctx context.Context, last error) error {
	if last == nil {
		return context.Cause(ctx)
	}
	return fmt.Errorf("%v; last attempt: %v", context.Cause(ctx), last)
}

// sleep(d)
func (r *runner) sleep(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
	d := starlark.Duration{Min: 0}
	if err := gostarlark.UnpackArgs(b.Name(), args, kwargs, "d", &d); err != nil {
		return nil, err
	}
	return r.step(t, "sleep", d.D.String(), "", 0, func(ctx context.Context) (gostarlark.Value, error) {
		select {
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-time.After(d.D):
			return nil, nil
		}
	})
}
