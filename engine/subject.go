// Package engine loads subject files into Subjects and runs lifecycle
// verbs, checks and sequences against their targets. It is the only layer
// that knows both the language and the targets; it prints nothing.
package engine

import (
	"context"

	"github.com/opdeploy/opdeploy/starlark"
	"github.com/opdeploy/opdeploy/target"
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
	// Resolver builds the targets a subject declares. Required: the
	// composition root (cmd) maps each kind to its implementation, so this
	// package never imports one; tests use fakes.
	Resolver target.Resolver
}

// Subject is an evaluated subject file: the system under operation, with
// the parameters it was evaluated with. Every verb reaches the target
// through it (lifecycle.go, checks.go, sequence.go).
type Subject struct {
	starlark.Subject
	Params map[string]string
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
	s, err := starlark.Eval(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &Subject{Subject: *s, Params: opts.Params, MaxMemory: opts.MaxMemory}, nil
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
