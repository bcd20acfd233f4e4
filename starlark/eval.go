// Package starlark is the subject language: the builtins a subject file
// may call, the values they return, load() and the limits on evaluation.
// It never talks to Docker: deployment specs are handed to a
// target.Resolver, which only loads and validates them.
package starlark

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	gotime "time"

	"go.starlark.net/lib/json"
	"go.starlark.net/lib/time"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"

	"github.com/opdeploy/opdeploy/target"
)

// DefaultMaxSteps bounds evaluation of a subject file. Generating a
// hundred-node cluster takes well under a million steps; an infinite loop
// reaches ten million in under a tenth of a second on our machines.
const DefaultMaxSteps = 10_000_000

// FileOptions are the dialect of subject files. Each choice is deliberate:
//   - Set: sets are handy for membership tests over node names.
//   - While, TopLevelControl: subjects generate N nodes with loops at top
//     level, and sequences poll with while loops. The step limit (and, for
//     sequences, their timeouts) bound them.
//   - GlobalReassign: `nodes = 3` then `if ...: nodes = 5` reads naturally.
//   - Recursion stays off: unbounded recursion would grow the Go stack
//     faster than the step limit stops it.
//   - LoadBindsGlobally stays off (deprecated; load binds file-locally).
var FileOptions = &syntax.FileOptions{
	Set:             true,
	While:           true,
	TopLevelControl: true,
	GlobalReassign:  true,
}

// Config says what to evaluate and how.
type Config struct {
	// File is the subject file. It is made absolute.
	File string
	// Root is the folder load() may not escape. Default: File's folder.
	Root string
	// Params are the --set key=value pairs, exposed as `params`.
	Params map[string]string
	// Profiles are activated in every deployment, after its own.
	Profiles []string
	// Project, when set, replaces the project name of every deployment
	// (-p on the command line).
	Project string
	// MaxSteps bounds evaluation; zero means DefaultMaxSteps.
	MaxSteps uint64
	// MaxMemory bounds the memory in use while evaluating (see Bounded);
	// zero means DefaultMaxMemory.
	MaxMemory ByteSize
	// FS reads source files; nil means the operating system's.
	FS FS
	// Resolver turns deployment specs into targets. Required.
	Resolver target.Resolver
}

// Subject is the result of evaluating a subject file.
type Subject struct {
	Name   string
	Doc    string
	File   string // absolute
	Root   string // absolute; load() stays inside it
	Pos    target.Pos
	Target target.DeploymentTarget
	// Swarm is the spec Target was resolved from when it is a
	// swarm_deployment: what only the declaration knows (the endpoint as
	// written, how images reach the nodes), for `opdeploy config`.
	Swarm  *target.SwarmSpec
	Checks []target.CheckSpec
	// FuncChecks are checks written in Starlark with check(name, fn).
	FuncChecks []*FuncCheck
	Sequences  []*Sequence
}

// FuncCheck is a check written in Starlark.
type FuncCheck struct {
	Name    string
	Pos     target.Pos
	Fn      starlark.Callable
	Timeout gotime.Duration // per run
}

// Sequence is an operational sequence a subject registered.
type Sequence struct {
	Name string
	Doc  string
	Pos  target.Pos
	Fn   starlark.Callable
}

// Eval evaluates a subject file, within cfg's step and memory limits.
// Cancelling ctx stops evaluation promptly. Errors a user can cause are
// *Error values with a position (only the file when evaluation had to be
// abandoned inside one operation; see Bounded).
func Eval(ctx context.Context, cfg Config) (*Subject, error) {
	if cfg.Resolver == nil {
		return nil, errors.New("starlark.Eval: no resolver")
	}
	file, err := filepath.Abs(cfg.File)
	if err != nil {
		return nil, err
	}
	cfg.File = file
	if cfg.Root == "" {
		cfg.Root = filepath.Dir(file)
	}
	if cfg.Root, err = filepath.Abs(cfg.Root); err != nil {
		return nil, err
	}
	if cfg.FS == nil {
		cfg.FS = OSFS{}
	}
	if cfg.MaxSteps == 0 {
		cfg.MaxSteps = DefaultMaxSteps
	}
	if cfg.MaxMemory == 0 {
		cfg.MaxMemory = DefaultMaxMemory
	}
	if err := within(cfg.Root, file); err != nil {
		return nil, fmt.Errorf("%s is outside the root folder %s", file, cfg.Root)
	}

	thread := &starlark.Thread{
		Name:  "eval " + file,
		Print: func(*starlark.Thread, string) {}, // evaluation prints nothing
	}
	lim := Limits{MaxMemory: cfg.MaxMemory, MaxSteps: cfg.MaxSteps, Reason: evalStopReason}
	subj, err := Bounded(ctx, thread, lim, func(ctx context.Context) (*Subject, error) {
		return evalFile(ctx, &cfg, thread)
	})
	if err != nil {
		return nil, stoppedError(file, err)
	}
	if err := checkMemoryAfter(file, cfg.MaxMemory); err != nil {
		return nil, err
	}
	return subj, nil
}

// checkMemoryAfter looks at memory once more when evaluation is over: one
// operation can allocate much at once (l + l, "x" * n) after the last
// sample, and what the subject keeps stays in memory while opdeploy runs.
func checkMemoryAfter(file string, limit ByteSize) error {
	inUse, over := liveOver(limit)
	if !over {
		return nil
	}
	return &Error{
		Pos:   target.Pos{File: file},
		Msg:   fmt.Sprintf("evaluation ended with %s in use, over the memory limit of %s", inUse, limit),
		cause: &MemoryError{Limit: limit, InUse: inUse},
	}
}

// evalFile evaluates cfg.File on thread; ctx ends it.
func evalFile(ctx context.Context, cfg *Config, thread *starlark.Thread) (*Subject, error) {
	st := newState(ctx, cfg)
	thread.Load = st.loader.load
	thread.SetLocal(stateKey, st)
	if _, err := st.loader.exec(thread, cfg.File); err != nil {
		return nil, wrapError(err)
	}
	subj, err := st.finish(thread)
	if err != nil {
		return nil, wrapError(err)
	}
	return subj, nil
}

// evalStopReason says why evaluation was stopped: a limit, or the caller
// (an interrupt).
func evalStopReason(cause error) string {
	var me *MemoryError
	var se *StepsError
	switch {
	case errors.As(cause, &me):
		return "evaluation stopped: " + me.Error()
	case errors.As(cause, &se):
		return fmt.Sprintf("evaluation stopped after %d steps (an infinite loop?)", se.Max)
	}
	return "evaluation cancelled: " + cause.Error()
}

// stoppedError names the subject file in an error that has no position of
// its own: Bounded gave up waiting for an operation, so nobody knows the
// line it was on.
func stoppedError(file string, err error) error {
	var ab *AbandonedError
	if !errors.As(err, &ab) {
		return err
	}
	verb := "evaluation cancelled: "
	var me *MemoryError
	var se *StackError
	if errors.As(ab.Cause, &me) || errors.As(ab.Cause, &se) {
		verb = "evaluation stopped: "
	}
	return &Error{Pos: target.Pos{File: file}, Msg: verb + ab.Error(), cause: err}
}

// predeclared returns the names every subject file (and every file it
// loads) sees.
func predeclared(st *state) starlark.StringDict {
	return starlark.StringDict{
		"subject":          starlark.NewBuiltin(builtinSubject, subjectBuiltin),
		"local_deployment": starlark.NewBuiltin(builtinLocalDeployment, localDeploymentBuiltin),
		"swarm_deployment": starlark.NewBuiltin(builtinSwarmDeployment, swarmDeploymentBuiltin),
		"http_check":       starlark.NewBuiltin(builtinHTTPCheck, httpCheckBuiltin),
		"tcp_check":        starlark.NewBuiltin(builtinTCPCheck, tcpCheckBuiltin),
		"exec_check":       starlark.NewBuiltin(builtinExecCheck, execCheckBuiltin),
		"check":            starlark.NewBuiltin(builtinCheck, checkBuiltin),
		"base64":           base64Module,
		"sequence":         starlark.NewBuiltin(builtinSequence, sequenceBuiltin),
		"binary_image":     starlark.NewBuiltin(builtinBinaryImage, binaryImageBuiltin),
		"params":           st.params,
		"json":             json.Module,
		"time":             time.Module,
		"struct":           starlark.NewBuiltin("struct", starlarkstruct.Make),
	}
}
