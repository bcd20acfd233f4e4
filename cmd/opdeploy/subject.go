package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/opdeploy/opdeploy/engine"
	"github.com/opdeploy/opdeploy/starlark"
	"github.com/opdeploy/opdeploy/target"
)

// subjectArgs are the arguments of every verb that reads a subject file.
type subjectArgs struct {
	File      string            `arg:"" name:"file" help:"Subject file (.star)." type:"path"`
	Set       []string          `short:"s" sep:"none" placeholder:"KEY=VALUE" help:"Set a subject parameter, read in the file as params[\"KEY\"]. Repeatable."`
	Profile   []string          `placeholder:"NAME" env:"OPDEPLOY_PROFILES" help:"Activate a compose profile in every local deployment. Repeatable."`
	Project   string            `short:"p" placeholder:"NAME" env:"OPDEPLOY_PROJECT" help:"Use this project name instead of the subject's (to run a second copy side by side)."`
	Root      string            `placeholder:"DIR" type:"path" help:"Folder that load() may not escape (default: the subject file's folder)."`
	MaxSteps  uint64            `default:"${maxSteps}" placeholder:"N" help:"Stop evaluating the subject after N Starlark steps (guards against infinite loops)."`
	MaxMemory starlark.ByteSize `default:"${maxMemory}" placeholder:"SIZE" help:"Stop Starlark code (evaluation, sequences, checks) once opdeploy uses more than SIZE of memory, e.g. 512MiB or 2GiB."`
}

// subject gives the composition root (cli.go) the arguments of the verb
// being run; every verb that embeds subjectArgs has it.
func (a *subjectArgs) subject() *subjectArgs { return a }

// load evaluates the subject file, with targets to build its deployments.
func (a *subjectArgs) load(ctx context.Context, tgts targets, act *activity) (*engine.Subject, error) {
	params, err := parseSets(a.Set)
	if err != nil {
		return nil, err
	}
	if a.Project != "" {
		if err := target.ValidateName("project", a.Project); err != nil {
			return nil, fmt.Errorf("-p: %w", err)
		}
	}
	if a.MaxMemory == 0 {
		return nil, &codeError{code: exitUsage, err: fmt.Errorf("--max-memory must be more than 0")}
	}
	if err := a.record(params); err != nil { // for opdeploy test (subject_record.go)
		return nil, err
	}
	// The collector works hard near the limit for the whole run, so that
	// garbage does not count toward it (see ApplyMemoryLimit).
	starlark.ApplyMemoryLimit(a.MaxMemory)
	act.begin("evaluate", "evaluating "+a.File)
	s, err := engine.Load(ctx, a.File, engine.Options{
		Root:      a.Root,
		Params:    params,
		Profiles:  a.Profile,
		Project:   a.Project,
		MaxSteps:  a.MaxSteps,
		MaxMemory: a.MaxMemory,
		Resolver:  tgts,
	})
	if err != nil {
		var se *starlark.Error
		if ctx.Err() != nil && errors.As(err, &se) && se.Pos.File != "" {
			act.begin("evaluate", "evaluating "+se.Pos.String()) // where it stopped
		}
		return nil, err
	}
	act.end("evaluate")
	return s, nil
}

func parseSets(sets []string) (map[string]string, error) {
	params := map[string]string{}
	for _, kv := range sets {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usageErrorf("--set %q: want KEY=VALUE", kv)
		}
		params[k] = v
	}
	return params, nil
}

var defaultVars = map[string]string{
	"maxSteps":  fmt.Sprint(starlark.DefaultMaxSteps),
	"maxMemory": starlark.DefaultMaxMemory.String(),
}
