package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	gojson "go.starlark.net/lib/json"
	gostarlark "go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/opdeploy/opdeploy/starlark"
	"github.com/opdeploy/opdeploy/target"
)

// ctxValue is the ctx a sequence (or a Starlark check) receives. Each
// method that acts on the target is a step (see runner.step).
type ctxValue struct {
	r       *runner
	methods map[string]*gostarlark.Builtin
}

var _ gostarlark.HasAttrs = (*ctxValue)(nil)

func (c *ctxValue) Type() string           { return "ctx" }
func (c *ctxValue) String() string         { return "ctx(" + c.r.subject.Name + ")" }
func (c *ctxValue) Freeze()                {}
func (c *ctxValue) Truth() gostarlark.Bool { return true }
func (c *ctxValue) Hash() (uint32, error)  { return 0, fmt.Errorf("unhashable type: ctx") }
func (c *ctxValue) AttrNames() []string    { return append(sortedMethodNames(c.methods), "params") }
func (c *ctxValue) Attr(name string) (gostarlark.Value, error) {
	if name == "params" {
		d := gostarlark.NewDict(len(c.r.subject.Params))
		for k, v := range c.r.subject.Params {
			_ = d.SetKey(gostarlark.String(k), gostarlark.String(v))
		}
		d.Freeze()
		return d, nil
	}
	if m, ok := c.methods[name]; ok {
		return m, nil
	}
	return nil, nil
}

func sortedMethodNames(m map[string]*gostarlark.Builtin) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

type builtinFunc = func(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error)

func (r *runner) ctxValue() *ctxValue {
	c := &ctxValue{r: r, methods: map[string]*gostarlark.Builtin{}}
	for name, fn := range map[string]builtinFunc{
		"services":     r.services,
		"containers":   r.containers,
		"status":       r.status,
		"up":           r.up,
		"down":         r.down,
		"restart":      r.restart,
		"stop":         r.stop,
		"start":        r.simple("start", func(ctx context.Context, svc string) error { return r.op.Start(ctx, svc) }),
		"pause":        r.simple("pause", func(ctx context.Context, svc string) error { return r.op.Pause(ctx, svc) }),
		"unpause":      r.simple("unpause", func(ctx context.Context, svc string) error { return r.op.Unpause(ctx, svc) }),
		"disconnect":   r.simple("disconnect", func(ctx context.Context, svc string) error { return r.op.Disconnect(ctx, svc) }),
		"connect":      r.simple("connect", func(ctx context.Context, svc string) error { return r.op.Connect(ctx, svc) }),
		"kill":         r.kill,
		"exec":         r.exec,
		"wait_healthy": r.waitHealthy,
		"wait_until":   r.waitUntil,
		"check":        r.check,
		"http":         r.http,
		"sleep":        r.sleep,
		"log":          r.log,
		"fail":         r.fail,
	} {
		c.methods[name] = gostarlark.NewBuiltin("ctx."+name, fn)
	}
	return c
}

// durationArg is a duration given as "30s" or a time.duration; None
// keeps the default.
type durationArg time.Duration

func (d *durationArg) Unpack(v gostarlark.Value) error {
	if v == gostarlark.None {
		return nil
	}
	parsed, err := starlark.ParseDuration(v)
	if err != nil {
		return err
	}
	if parsed < 0 {
		return fmt.Errorf("duration must not be negative")
	}
	*d = durationArg(parsed)
	return nil
}

// servicesArg is a service name or a list of them.
type servicesArg []string

func (s *servicesArg) Unpack(v gostarlark.Value) error {
	if str, ok := gostarlark.AsString(v); ok {
		*s = []string{str}
		return nil
	}
	list, err := starlark.StringList(v)
	*s = list
	return err
}

func structOf(fields gostarlark.StringDict) *starlarkstruct.Struct {
	return starlarkstruct.FromStringDict(starlarkstruct.Default, fields)
}

func statusStruct(s target.ServiceStatus) *starlarkstruct.Struct {
	return structOf(gostarlark.StringDict{
		"service":   gostarlark.String(s.Service),
		"name":      gostarlark.String(s.Container),
		"number":    gostarlark.MakeInt(s.Number),
		"state":     gostarlark.String(s.State),
		"health":    gostarlark.String(s.Health),
		"exit_code": gostarlark.MakeInt(s.ExitCode),
		"ready":     gostarlark.Bool(s.Ready),
		"reason":    gostarlark.String(s.Reason),
	})
}

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
	var services servicesArg
	timeout := durationArg(5 * time.Minute)
	if err := gostarlark.UnpackArgs(b.Name(), args, kwargs, "services?", &services, "timeout?", &timeout); err != nil {
		return nil, err
	}
	return r.step(t, "up", strings.Join(services, " "), first(services), 0, func(ctx context.Context) (gostarlark.Value, error) {
		return nil, r.subject.Up(ctx, target.UpOptions{Services: services, Timeout: time.Duration(timeout)})
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
	var services servicesArg
	timeout := durationArg(60 * time.Second)
	if err := gostarlark.UnpackArgs(b.Name(), args, kwargs, "service", &services, "timeout?", &timeout); err != nil {
		return nil, err
	}
	return r.step(t, "restart", strings.Join(services, " "), first(services), 0, func(ctx context.Context) (gostarlark.Value, error) {
		return nil, r.subject.Target.Restart(ctx, target.RestartOptions{Services: services, Timeout: time.Duration(timeout)})
	})
}

// stop(service, timeout = None): stop (SIGTERM, then SIGKILL after the grace period).
func (r *runner) stop(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
	var svc string
	var grace durationArg
	if err := gostarlark.UnpackArgs(b.Name(), args, kwargs, "service", &svc, "timeout?", &grace); err != nil {
		return nil, err
	}
	return r.step(t, "stop", svc, svc, 0, func(ctx context.Context) (gostarlark.Value, error) {
		return nil, r.op.Stop(ctx, svc, time.Duration(grace))
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

// exec(service, command, timeout = "30s") -> struct(exit_code, stdout, stderr)
func (r *runner) exec(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
	var svc string
	var command gostarlark.Value
	timeout := durationArg(30 * time.Second)
	if err := gostarlark.UnpackArgs(b.Name(), args, kwargs, "service", &svc, "command", &command, "timeout?", &timeout); err != nil {
		return nil, err
	}
	var argv []string
	if s, ok := gostarlark.AsString(command); ok {
		argv = []string{"sh", "-c", s}
	} else {
		var list servicesArg
		if err := list.Unpack(command); err != nil {
			return nil, fmt.Errorf("%s: for parameter command: got %s, want string or list of strings", b.Name(), command.Type())
		}
		argv = list
	}
	return r.step(t, "exec", svc+" "+strings.Join(argv, " "), svc, time.Duration(timeout), func(ctx context.Context) (gostarlark.Value, error) {
		res, err := r.op.Exec(ctx, svc, argv)
		if err != nil {
			return nil, err
		}
		return structOf(gostarlark.StringDict{
			"exit_code": gostarlark.MakeInt(res.ExitCode),
			"stdout":    gostarlark.String(res.Stdout),
			"stderr":    gostarlark.String(res.Stderr),
		}), nil
	})
}

// wait_healthy(services, timeout = "60s")
func (r *runner) waitHealthy(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
	var services servicesArg
	timeout := durationArg(60 * time.Second)
	if err := gostarlark.UnpackArgs(b.Name(), args, kwargs, "services", &services, "timeout?", &timeout); err != nil {
		return nil, err
	}
	// The target applies the timeout itself, so its failure explains which
	// container is not ready and why.
	return r.step(t, "wait_healthy", strings.Join(services, " "), first(services), 0, func(ctx context.Context) (gostarlark.Value, error) {
		return nil, r.op.WaitHealthy(ctx, services, time.Duration(timeout))
	})
}

// wait_until(fn, timeout = "60s", interval = "500ms"): call fn() until it
// returns a true value. An error from fn counts as "not yet"; the last one
// is reported if the time runs out.
func (r *runner) waitUntil(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
	var fn gostarlark.Callable
	timeout := durationArg(60 * time.Second)
	interval := durationArg(500 * time.Millisecond)
	if err := gostarlark.UnpackArgs(b.Name(), args, kwargs, "fn", &fn, "timeout?", &timeout, "interval?", &interval); err != nil {
		return nil, err
	}
	if interval <= 0 {
		interval = durationArg(500 * time.Millisecond)
	}
	return r.stepOnThread(t, "wait_until", fn.Name(), time.Duration(timeout), func(ctx context.Context) (gostarlark.Value, error) {
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
			case <-time.After(time.Duration(interval)):
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

// check(name) -> bool: run one of the subject's checks once.
func (r *runner) check(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
	var name string
	if err := gostarlark.UnpackArgs(b.Name(), args, kwargs, "name", &name); err != nil {
		return nil, err
	}
	return r.step(t, "check", name, "", 0, func(ctx context.Context) (gostarlark.Value, error) {
		results, err := r.subject.RunChecks(ctx, []string{name})
		if err != nil {
			return nil, err
		}
		return gostarlark.Bool(results[0].OK), nil
	})
}

// http(service, port, path, method = "GET", body = None, timeout = "5s")
// -> struct(status, body, json()). A dict or list body is sent as JSON.
func (r *runner) http(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
	var (
		svc, path string
		port      int
		method                     = "GET"
		body      gostarlark.Value = gostarlark.None
		timeout                    = durationArg(5 * time.Second)
	)
	if err := gostarlark.UnpackArgs(b.Name(), args, kwargs, "service", &svc, "port", &port, "path", &path,
		"method?", &method, "body?", &body, "timeout?", &timeout); err != nil {
		return nil, err
	}
	var payload []byte
	switch v := body.(type) {
	case gostarlark.NoneType:
	case gostarlark.String:
		payload = []byte(v)
	default:
		encoded, err := gostarlark.Call(t, gojson.Module.Members["encode"], gostarlark.Tuple{body}, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: for parameter body: %v", b.Name(), err)
		}
		payload = []byte(encoded.(gostarlark.String))
	}
	return r.step(t, "http", fmt.Sprintf("%s %s:%d%s", method, svc, port, path), svc, time.Duration(timeout), func(ctx context.Context) (gostarlark.Value, error) {
		addr, err := r.op.Endpoint(ctx, svc, port)
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, method, "http://"+addr+path, bytes.NewReader(payload))
		if err != nil {
			return nil, err
		}
		if len(payload) > 0 && json.Valid(payload) {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := checkClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
		if err != nil {
			return nil, err
		}
		text := gostarlark.String(data)
		decode := gostarlark.NewBuiltin("json", func(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
			if err := gostarlark.UnpackArgs(b.Name(), args, kwargs); err != nil {
				return nil, err
			}
			return gostarlark.Call(t, gojson.Module.Members["decode"], gostarlark.Tuple{text}, nil)
		})
		return structOf(gostarlark.StringDict{"status": gostarlark.MakeInt(resp.StatusCode), "body": text, "json": decode}), nil
	})
}

// sleep(d)
func (r *runner) sleep(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
	var d durationArg
	if err := gostarlark.UnpackArgs(b.Name(), args, kwargs, "d", &d); err != nil {
		return nil, err
	}
	return r.step(t, "sleep", time.Duration(d).String(), "", 0, func(ctx context.Context) (gostarlark.Value, error) {
		select {
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-time.After(time.Duration(d)):
			return nil, nil
		}
	})
}

// log(msg)
func (r *runner) log(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
	var msg gostarlark.Value
	if err := gostarlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &msg); err != nil {
		return nil, err
	}
	text, ok := gostarlark.AsString(msg)
	if !ok {
		text = msg.String()
	}
	r.emit(StepEvent{Time: time.Now(), Kind: StepLog, Message: text, Pos: callerPos(t)})
	return gostarlark.None, nil
}

// fail(msg): stop the sequence with this message.
func (r *runner) fail(t *gostarlark.Thread, b *gostarlark.Builtin, args gostarlark.Tuple, kwargs []gostarlark.Tuple) (gostarlark.Value, error) {
	var msg string
	if err := gostarlark.UnpackPositionalArgs(b.Name(), args, kwargs, 1, &msg); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("%s", msg)
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}
