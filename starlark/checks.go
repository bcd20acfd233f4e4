package starlark

import (
	"fmt"
	gotime "time"

	"go.starlark.net/starlark"

	"github.com/opdeploy/opdeploy/target"
)

const (
	builtinHTTPCheck = "http_check"
	builtinTCPCheck  = "tcp_check"
	builtinExecCheck = "exec_check"

	defaultCheckTimeout = 2 * gotime.Second
	defaultExecTimeout  = 5 * gotime.Second
	// defaultFuncCheckTimeout bounds a check written in Starlark, which may
	// make several ctx steps.
	defaultFuncCheckTimeout = 30 * gotime.Second
	// minCheckTimeout refuses a zero or negative check timeout.
	minCheckTimeout = gotime.Millisecond
)

// checkValue is a declared health check. It is inert until `opdeploy
// check` (or `up`) runs it against the subject's target. A check made by
// check(name, fn) has fn set and no service.
type checkValue struct {
	spec target.CheckSpec
	fn   starlark.Callable
}

var _ starlark.HasAttrs = (*checkValue)(nil)

func (c *checkValue) Type() string         { return "check" }
func (c *checkValue) Freeze()              {}
func (c *checkValue) Truth() starlark.Bool { return true }
func (c *checkValue) Hash() (uint32, error) {
	return starlark.String(c.spec.Name).Hash()
}
func (c *checkValue) String() string {
	if c.fn != nil {
		return fmt.Sprintf("check(%q, %s)", c.spec.Name, c.fn.Name())
	}
	return fmt.Sprintf("%s_check(%q, service = %q)", c.spec.Kind, c.spec.Name, c.spec.Service)
}

func (c *checkValue) AttrNames() []string { return []string{"kind", "name", "service"} }

func (c *checkValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "kind":
		return starlark.String(c.spec.Kind), nil
	case "name":
		return starlark.String(c.spec.Name), nil
	case "service":
		return starlark.String(c.spec.Service), nil
	}
	return nil, nil
}

// httpCheckBuiltin implements
// http_check(name, service, port, path = "/", expect_status = 200, timeout = "2s").
func httpCheckBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := atMostPositional(b, args, 1, "name"); err != nil {
		return nil, err
	}
	var (
		name, service NonEmptyString
		p             Port
		path          = "/"
		expect        = 200
		timeout       = Duration{D: defaultCheckTimeout, Min: minCheckTimeout}
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs,
		"name", &name, "service", &service, "port", &p,
		"path?", &path, "expect_status?", &expect, "timeout?", &timeout); err != nil {
		return nil, err
	}
	if len(path) == 0 || path[0] != '/' {
		return nil, fmt.Errorf("%s: for parameter path: %q must start with /", b.Name(), path)
	}
	if expect < 100 || expect > 599 {
		return nil, fmt.Errorf("%s: for parameter expect_status: %d is not an HTTP status code", b.Name(), expect)
	}
	return &checkValue{spec: target.CheckSpec{
		Name: string(name), Kind: target.CheckHTTP, Service: string(service), Port: int(p),
		Path: path, Expect: expect, Timeout: timeout.D, Pos: callerPos(thread),
	}}, nil
}

// tcpCheckBuiltin implements tcp_check(name, service, port, timeout = "2s").
func tcpCheckBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := atMostPositional(b, args, 1, "name"); err != nil {
		return nil, err
	}
	var (
		name, service NonEmptyString
		p             Port
		timeout       = Duration{D: defaultCheckTimeout, Min: minCheckTimeout}
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs,
		"name", &name, "service", &service, "port", &p, "timeout?", &timeout); err != nil {
		return nil, err
	}
	return &checkValue{spec: target.CheckSpec{
		Name: string(name), Kind: target.CheckTCP, Service: string(service), Port: int(p),
		Timeout: timeout.D, Pos: callerPos(thread),
	}}, nil
}

// execCheckBuiltin implements exec_check(name, service, command, timeout = "5s").
// A string command runs through `sh -c`; a list runs as it is.
func execCheckBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := atMostPositional(b, args, 1, "name"); err != nil {
		return nil, err
	}
	var (
		name, service NonEmptyString
		argv          Argv
		timeout       = Duration{D: defaultExecTimeout, Min: minCheckTimeout}
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs,
		"name", &name, "service", &service, "command", &argv, "timeout?", &timeout); err != nil {
		return nil, err
	}
	return &checkValue{spec: target.CheckSpec{
		Name: string(name), Kind: target.CheckExec, Service: string(service), Command: argv,
		Timeout: timeout.D, Pos: callerPos(thread),
	}}, nil
}

const builtinCheck = "check"

// checkBuiltin implements check(name, fn): a check written in Starlark. fn
// receives the sequence ctx and returns True or False, or fails with a
// message.
func checkBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := atMostPositional(b, args, 2, "name, fn"); err != nil {
		return nil, err
	}
	var (
		name    NonEmptyString
		fn      starlark.Callable
		timeout = Duration{D: defaultFuncCheckTimeout, Min: minCheckTimeout}
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name, "fn", &fn, "timeout?", &timeout); err != nil {
		return nil, err
	}
	if err := takesOneArgument(fn); err != nil {
		return nil, fmt.Errorf("%s %q: %v", b.Name(), name, err)
	}
	return &checkValue{spec: target.CheckSpec{Name: string(name), Kind: "starlark", Timeout: timeout.D, Pos: callerPos(thread)}, fn: fn}, nil
}
