package engine

import (
	"context"
	"fmt"
	"sort"
	"time"

	gostarlark "go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"github.com/opdeploy/opdeploy/target"
)

// ctxValue is the ctx a sequence (or a Starlark check) receives. Each
// method that acts on the target is a step (see runner.step).
type ctxValue struct {
	r       *runner
	methods map[string]*gostarlark.Builtin
	params  *gostarlark.Dict // frozen
}

var _ gostarlark.HasAttrs = (*ctxValue)(nil)

func (c *ctxValue) Type() string { return "ctx" }

func (c *ctxValue) String() string { return "ctx(" + c.r.subject.Name + ")" }

func (c *ctxValue) Freeze() {}

func (c *ctxValue) Truth() gostarlark.Bool { return true }

func (c *ctxValue) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: ctx") }

func (c *ctxValue) AttrNames() []string { return append(sortedMethodNames(c.methods), "params") }

func (c *ctxValue) Attr(name string) (gostarlark.Value, error) {
	if name == "params" {
		return c.params, nil
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

// ctxValue returns the runner's ctx, built on first use: its methods and
// params are made once, not on every call or attribute access.
func (r *runner) ctxValue() *ctxValue {
	if r.ctxv == nil {
		r.ctxv = r.newCtx()
	}
	return r.ctxv
}

func (r *runner) newCtx() *ctxValue {
	c := &ctxValue{r: r, methods: map[string]*gostarlark.Builtin{}, params: gostarlark.NewDict(len(r.subject.Params))}
	for _, k := range sortedKeys(r.subject.Params) {
		_ = c.params.SetKey(gostarlark.String(k), gostarlark.String(r.subject.Params[k]))
	}
	c.params.Freeze()
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
		// faults (ctx_faults.go)
		"delay":     r.delay,
		"loss":      r.loss,
		"partition": r.partition,
		"block":     r.block,
		"fill_disk": r.fillDisk,
		"limit":     r.limit,
		"heal":      r.heal,
		"faults":    r.faults,
		// nodes of a multi-node target (ctx_nodes.go)
		"nodes":    r.nodes,
		"drain":    r.availability("drain", "drain"),
		"activate": r.availability("activate", "active"),
	} {
		c.methods[name] = gostarlark.NewBuiltin("ctx."+name, fn)
	}
	return c
}

func structOf(fields gostarlark.StringDict) *starlarkstruct.Struct {
	return starlarkstruct.FromStringDict(starlarkstruct.Default, fields)
}

func statusStruct(s target.ServiceStatus) *starlarkstruct.Struct {
	return structOf(gostarlark.StringDict{
		"service":   gostarlark.String(s.Service),
		"name":      gostarlark.String(s.Container),
		"number":    gostarlark.MakeInt(s.Number),
		"node":      gostarlark.String(s.Node), // "" on the local engine
		"state":     gostarlark.String(s.State),
		"health":    gostarlark.String(s.Health),
		"exit_code": gostarlark.MakeInt(s.ExitCode),
		"ready":     gostarlark.Bool(s.Ready),
		"reason":    gostarlark.String(s.Reason),
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

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
