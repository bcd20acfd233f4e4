// Package engine loads subject files into Subjects and runs lifecycle
// verbs, checks and sequences against their targets. It is the only layer
// that knows both the language and the targets; it prints nothing.
package engine

import (
	"context"

	"github.com/opdeploy/opdeploy/starlark"
	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/local"
)

// Options control how a subject file is evaluated.
type Options struct {
	// Root is the folder load() may not escape; default the file's folder.
	Root string
	// Params are exposed to the subject as `params` (--set key=value).
	Params map[string]string
	// Profiles are activated in every local deployment of the subject.
	Profiles []string
	// Project replaces the subject's project name (-p).
	Project string
	// MaxSteps bounds evaluation; zero means starlark.DefaultMaxSteps.
	MaxSteps uint64
	// MaxMemory bounds the memory in use while Starlark code runs:
	// evaluation, sequences and checks written in Starlark. Zero means
	// starlark.DefaultMaxMemory.
	MaxMemory starlark.ByteSize
	// FS reads subject sources; nil means the operating system's.
	FS starlark.FS
	// Resolver builds targets; nil means the real engines (tests use fakes).
	Resolver target.Resolver
}

// Subject is an evaluated subject file: the system under operation.
type Subject struct {
	Name       string
	Doc        string
	File       string // absolute path of the subject file
	Root       string // absolute path load() was confined to
	Pos        target.Pos
	Target     target.DeploymentTarget
	Checks     []target.CheckSpec
	FuncChecks []*FuncCheck
	Sequences  []*starlark.Sequence
	Params     map[string]string
	// MaxMemory bounds sequences and Starlark checks (Options.MaxMemory).
	MaxMemory starlark.ByteSize
}

// FuncCheck is a check written in Starlark with check(name, fn).
type FuncCheck = starlark.FuncCheck

// Load evaluates the subject file at path. Evaluation has no side effect on
// any engine: compose files are loaded and validated, nothing is created.
// Errors a user can cause carry a file:line:col (see starlark.Error).
func Load(ctx context.Context, path string, opts Options) (*Subject, error) {
	cfg := starlark.Config{
		File:      path,
		Root:      opts.Root,
		Params:    opts.Params,
		Profiles:  opts.Profiles,
		Project:   opts.Project,
		MaxSteps:  opts.MaxSteps,
		MaxMemory: opts.MaxMemory,
		FS:        opts.FS,
		Resolver:  opts.Resolver,
	}
	if cfg.Resolver == nil {
		cfg.Resolver = Resolver{}
	}
	s, err := starlark.Eval(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &Subject{
		Name:       s.Name,
		Doc:        s.Doc,
		File:       s.File,
		Root:       s.Root,
		Pos:        s.Pos,
		Target:     s.Target,
		Checks:     s.Checks,
		FuncChecks: s.FuncChecks,
		Sequences:  s.Sequences,
		Params:     opts.Params,
		MaxMemory:  opts.MaxMemory,
	}, nil
}

// Sequence returns the sequence with that name.
func (s *Subject) Sequence(name string) (*starlark.Sequence, bool) {
	for _, seq := range s.Sequences {
		if seq.Name == name {
			return seq, true
		}
	}
	return nil, false
}

// Resolver builds deployment targets for the Starlark layer. It maps each
// kind of spec to the engine package that implements it.
type Resolver struct{}

var _ target.Resolver = Resolver{}

// Local loads a compose project for local_deployment.
func (Resolver) Local(ctx context.Context, spec target.LocalSpec) (target.DeploymentTarget, error) {
	return local.Load(ctx, spec)
}
