package starlark

import (
	"fmt"
	"path/filepath"

	"go.starlark.net/starlark"

	"github.com/opdeploy/opdeploy/target"
)

const builtinLocalDeployment = "local_deployment"

// deploymentValue is what local_deployment returns: a validated compose
// project, not yet deployed anywhere.
type deploymentValue struct {
	spec     target.LocalSpec
	explicit bool // project was given; otherwise the subject's name is used
	target   target.DeploymentTarget
	pos      target.Pos
}

var _ starlark.HasAttrs = (*deploymentValue)(nil)

func (d *deploymentValue) Type() string         { return "deployment" }
func (d *deploymentValue) Freeze()              {} // immutable
func (d *deploymentValue) Truth() starlark.Bool { return true }
func (d *deploymentValue) Hash() (uint32, error) {
	return 0, fmt.Errorf("unhashable type: deployment")
}
func (d *deploymentValue) String() string {
	return fmt.Sprintf("deployment(kind = %q, project = %s)", d.target.Kind(), d.projectValue())
}

func (d *deploymentValue) projectValue() starlark.Value {
	if !d.explicit {
		return starlark.None
	}
	return starlark.String(d.spec.Project)
}

func (d *deploymentValue) AttrNames() []string { return []string{"kind", "project", "services"} }

func (d *deploymentValue) Attr(name string) (starlark.Value, error) {
	switch name {
	case "kind":
		return starlark.String(d.target.Kind()), nil
	case "project":
		return d.projectValue(), nil
	case "services":
		var names []starlark.Value
		for _, n := range d.target.Describe().ServiceNames() {
			names = append(names, starlark.String(n))
		}
		list := starlark.NewList(names)
		list.Freeze()
		return list, nil
	}
	return nil, nil
}

// localDeploymentBuiltin implements
// local_deployment(project = None, compose = None, services = None,
// volumes = None, networks = None, env = {}, env_files = [], profiles = []).
func localDeploymentBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := atMostPositional(b, args, 0, ""); err != nil {
		return nil, err
	}
	var (
		project           optionalString
		compose, envFiles StringOrList
		profiles          StringOrList
		services          starlark.Value = starlark.None
		volumes           starlark.Value = starlark.None
		networks          starlark.Value = starlark.None
		env               stringDict
	)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs,
		"project?", &project, "compose?", &compose, "services?", &services,
		"volumes?", &volumes, "networks?", &networks, "env?", &env, "env_files?", &envFiles, "profiles?", &profiles); err != nil {
		return nil, err
	}
	st := stateOf(thread)
	dir := filepath.Dir(callerFile(thread))
	spec := target.LocalSpec{
		ComposeSpec: target.ComposeSpec{
			Project:      project.value,
			ServicesFile: callerFile(thread),
			Env:          env,
			Dir:          dir,
		},
		Pos: callerPos(thread),
	}
	for _, f := range compose.Values {
		spec.ComposeFiles = append(spec.ComposeFiles, resolvePath(dir, f))
	}
	for _, f := range envFiles.Values {
		spec.EnvFiles = append(spec.EnvFiles, resolvePath(dir, f))
	}
	spec.Profiles = append(append(spec.Profiles, profiles.Values...), st.cfg.Profiles...)

	for _, section := range []struct {
		name  string
		value starlark.Value
		into  *map[string]any
	}{
		{"services", services, &spec.Services},
		{"volumes", volumes, &spec.Volumes},
		{"networks", networks, &spec.Networks},
	} {
		if section.value == starlark.None {
			continue
		}
		dict, ok := section.value.(*starlark.Dict)
		if !ok {
			return nil, fmt.Errorf("%s: for parameter %s: got %s, want dict of name to definition", b.Name(), section.name, section.value.Type())
		}
		converted, err := toGo(dict, section.name)
		if err != nil {
			return nil, fmt.Errorf("%s: for parameter %s: %v", b.Name(), section.name, err)
		}
		*section.into = converted.(map[string]any)
	}
	if len(spec.ComposeFiles) == 0 && spec.Services == nil {
		return nil, fmt.Errorf("%s: needs compose = \"file.yaml\" (or a list of files), services = {...}, or both", b.Name())
	}
	if project.set {
		if err := target.ValidateName("project", project.value); err != nil {
			return nil, fmt.Errorf("%s: for parameter project: %v", b.Name(), err)
		}
	}
	if st.cfg.Project != "" {
		spec.Project, project.set = st.cfg.Project, true
	}

	t, err := st.cfg.Resolver.Local(st.ctx, spec)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	return &deploymentValue{spec: spec, explicit: project.set, target: t, pos: spec.Pos}, nil
}

// resolveFinal settles the project name once the subject is known: a
// deployment without an explicit project takes the subject's name.
func (d *deploymentValue) resolveFinal(st *state, subjectName string) error {
	if d.explicit && len(d.spec.Images) == 0 {
		return nil
	}
	if !d.explicit {
		d.spec.Project = subjectName
	}
	t, err := st.cfg.Resolver.Local(st.ctx, d.spec)
	if err != nil {
		return &posError{pos: d.pos, msg: fmt.Sprintf("%s: %v", builtinLocalDeployment, err)}
	}
	d.target = t
	return nil
}

// resolvePath resolves a path given in a subject file against that file's
// folder, never the working directory.
func resolvePath(dir, p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(dir, filepath.FromSlash(p))
}
