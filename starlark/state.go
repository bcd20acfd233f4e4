package starlark

import (
	"context"
	"path/filepath"
	"sort"

	"go.starlark.net/starlark"

	"github.com/opdeploy/opdeploy/target"
)

const stateKey = "opdeploy.state"

// state is what one evaluation accumulates. It lives on the thread, never
// in a global, so evaluations can run side by side.
type state struct {
	ctx       context.Context
	cfg       *Config
	loader    *loader
	params    *starlark.Dict
	subject   *subjectValue
	sequences []*Sequence
	images    []target.BinaryImage
}

func newState(ctx context.Context, cfg *Config) *state {
	st := &state{ctx: ctx, cfg: cfg}
	st.loader = newLoader(st)
	st.params = starlark.NewDict(len(cfg.Params))
	keys := make([]string, 0, len(cfg.Params))
	for k := range cfg.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		_ = st.params.SetKey(starlark.String(k), starlark.String(cfg.Params[k]))
	}
	st.params.Freeze()
	return st
}

func stateOf(thread *starlark.Thread) *state {
	st, _ := thread.Local(stateKey).(*state)
	if st == nil {
		panic("opdeploy builtin called outside a subject evaluation")
	}
	return st
}

// display names a file for messages that are not positions: relative to
// the subject root, with forward slashes.
func (st *state) display(path string) string {
	if rel, err := filepath.Rel(st.cfg.Root, path); err == nil {
		return filepath.ToSlash(rel)
	}
	return path
}

// callerPos is the position of the Starlark call to the running builtin.
func callerPos(thread *starlark.Thread) target.Pos {
	return toPos(thread.CallFrame(1).Pos)
}

// callerFile is the file that called the running builtin; relative paths
// given to the builtin resolve against its folder.
func callerFile(thread *starlark.Thread) string {
	return thread.CallFrame(1).Pos.Filename()
}

// finish checks what a whole evaluation declared and assembles the Subject.
func (st *state) finish(thread *starlark.Thread) (*Subject, error) {
	if st.subject == nil {
		return nil, &Error{
			Pos: target.Pos{File: st.cfg.File},
			Msg: "no subject declared: call subject(name = ..., target = ...) once",
		}
	}
	s := st.subject
	if err := s.deployment.resolveFinal(st, s.name, st.images); err != nil {
		return nil, err
	}
	checks, funcChecks, err := s.validateChecks()
	if err != nil {
		return nil, err
	}
	var swarm *target.SwarmSpec
	if s.deployment.swarm != nil {
		spec := s.deployment.swarmSpec()
		swarm = &spec
	}
	return &Subject{
		Name:       s.name,
		Doc:        s.doc,
		File:       st.cfg.File,
		Root:       st.cfg.Root,
		Pos:        s.pos,
		Target:     s.deployment.target,
		Swarm:      swarm,
		Checks:     checks,
		FuncChecks: funcChecks,
		Sequences:  st.sequences,
	}, nil
}
