package starlark

import (
	"fmt"
	"strings"

	"go.starlark.net/starlark"

	"github.com/opdeploy/opdeploy/target"
)

const builtinSubject = "subject"

// subjectValue records the one subject a file declares.
type subjectValue struct {
	name, doc  string
	deployment *deploymentValue
	checks     []*checkValue
	pos        target.Pos
}

// subjectBuiltin implements subject(name, target, checks = [], doc = "").
func subjectBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := atMostPositional(b, args, 0, ""); err != nil {
		return nil, err
	}
	var (
		name   string
		tgt    starlark.Value
		checks *starlark.List
		doc    string
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs,
		"name", &name, "target", &tgt, "checks?", &checks, "doc?", &doc); err != nil {
		return nil, err
	}
	st := stateOf(thread)
	if st.subject != nil {
		return nil, fmt.Errorf("%s: a subject is already declared at %s; a subject file declares exactly one", b.Name(), st.subject.pos)
	}
	if err := target.ValidateName("subject", name); err != nil {
		return nil, fmt.Errorf("%s: for parameter name: %v", b.Name(), err)
	}
	dep, ok := tgt.(*deploymentValue)
	if !ok {
		return nil, fmt.Errorf("%s: for parameter target: got %s, want deployment (from local_deployment or swarm_deployment)", b.Name(), tgt.Type())
	}
	s := &subjectValue{name: name, doc: doc, deployment: dep, pos: callerPos(thread)}
	if checks != nil {
		for i := 0; i < checks.Len(); i++ {
			c, ok := checks.Index(i).(*checkValue)
			if !ok {
				return nil, fmt.Errorf("%s: for parameter checks: element %d: got %s, want check (from http_check, tcp_check, exec_check or check)", b.Name(), i, checks.Index(i).Type())
			}
			s.checks = append(s.checks, c)
		}
	}
	st.subject = s
	return starlark.None, nil
}

// validateChecks runs once the target is final: every check must name an
// active service of it, and check names must be unique.
func (s *subjectValue) validateChecks() ([]target.CheckSpec, []*FuncCheck, error) {
	desc := s.deployment.target.Describe()
	seen := map[string]target.Pos{}
	var out []target.CheckSpec
	var funcs []*FuncCheck
	for _, c := range s.checks {
		spec := c.spec
		builtin := string(spec.Kind) + "_check"
		if c.fn != nil {
			builtin = builtinCheck
		}
		if prev, dup := seen[spec.Name]; dup {
			return nil, nil, &posError{pos: spec.Pos, msg: fmt.Sprintf("%s %q: a check with this name is already declared at %s", builtin, spec.Name, prev)}
		}
		seen[spec.Name] = spec.Pos
		if c.fn != nil {
			funcs = append(funcs, &FuncCheck{Name: spec.Name, Pos: spec.Pos, Fn: c.fn, Timeout: spec.Timeout})
			continue
		}
		if _, ok := desc.Service(spec.Service); !ok {
			msg := fmt.Sprintf("%s_check %q: service %q is not in project %q", spec.Kind, spec.Name, spec.Service, desc.Project)
			if profiles, inactive := desc.Inactive[spec.Service]; inactive {
				msg = fmt.Sprintf("%s_check %q: service %q is not active in project %q (it needs profile %s)", spec.Kind, spec.Name, spec.Service, desc.Project, strings.Join(profiles, " or "))
			} else {
				names := desc.ServiceNames()
				target.SortNatural(names)
				msg += " (services: " + strings.Join(names, ", ") + ")"
			}
			return nil, nil, &posError{pos: spec.Pos, msg: msg}
		}
		out = append(out, spec)
	}
	return out, funcs, nil
}
