package starlark

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"

	"go.starlark.net/starlark"

	"github.com/opdeploy/opdeploy/target"
)

const (
	builtinLocalDeployment = "local_deployment"
	builtinSwarmDeployment = "swarm_deployment"
)

// deploymentValue is what local_deployment and swarm_deployment return: a
// validated compose project, not yet deployed anywhere. Both kinds share
// the compose model; swarm adds where the swarm is and how images reach it.
type deploymentValue struct {
	builtin  string // the builtin that made it, for messages
	compose  target.ComposeSpec
	swarm    *swarmOptions // nil for a local deployment
	images   []target.BinaryImage
	explicit bool // project was given; otherwise the subject's name is used
	target   target.DeploymentTarget
	pos      target.Pos
}

// swarmOptions are what swarm_deployment takes beyond the compose model.
type swarmOptions struct {
	endpoint string // "" means DOCKER_HOST
	images   string // target.ImagesPull or target.ImagesLoad
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
	return starlark.String(d.compose.Project)
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

// localSpec and swarmSpec are the specs the resolver gets.
func (d *deploymentValue) localSpec() target.LocalSpec {
	return target.LocalSpec{ComposeSpec: d.compose, Images: d.images, Pos: d.pos}
}

func (d *deploymentValue) swarmSpec() target.SwarmSpec {
	return target.SwarmSpec{ComposeSpec: d.compose, Endpoint: d.swarm.endpoint, Images: d.swarm.images, BinaryImages: d.images, Pos: d.pos}
}

// resolve hands the deployment's spec to the resolver for its kind.
func (d *deploymentValue) resolve(st *state) (target.DeploymentTarget, error) {
	if d.swarm != nil {
		return st.cfg.Resolver.Swarm(st.ctx, d.swarmSpec())
	}
	return st.cfg.Resolver.Local(st.ctx, d.localSpec())
}

// composeArgs are the arguments every deployment of a compose model takes.
type composeArgs struct {
	project                     optionalString
	compose, envFiles, profiles StringOrList
	services, volumes, networks starlark.Value
	env                         stringDict
}

func newComposeArgs() *composeArgs {
	return &composeArgs{services: starlark.None, volumes: starlark.None, networks: starlark.None}
}

// pairs are composeArgs' parameters for starlark.UnpackArgs, in the order
// the docs list them.
func (a *composeArgs) pairs() []any {
	return []any{
		"project?", &a.project, "compose?", &a.compose, "services?", &a.services,
		"volumes?", &a.volumes, "networks?", &a.networks, "env?", &a.env,
		"env_files?", &a.envFiles, "profiles?", &a.profiles,
	}
}

// newDeployment checks the compose arguments, applies the command line's
// profiles and project, and resolves the deployment a first time, so that
// a bad compose file fails at the call that names it. swarm is nil for a
// local deployment.
func newDeployment(thread *starlark.Thread, b *starlark.Builtin, a *composeArgs, swarm *swarmOptions) (*deploymentValue, error) {
	st := stateOf(thread)
	dir := filepath.Dir(callerFile(thread))
	d := &deploymentValue{
		builtin: b.Name(),
		compose: target.ComposeSpec{
			Project:      a.project.value,
			ServicesFile: callerFile(thread),
			Env:          a.env,
			Dir:          dir,
		},
		swarm: swarm,
		pos:   callerPos(thread),
	}
	spec := &d.compose
	for _, f := range a.compose.Values {
		spec.ComposeFiles = append(spec.ComposeFiles, resolvePath(dir, f))
	}
	for _, f := range a.envFiles.Values {
		spec.EnvFiles = append(spec.EnvFiles, resolvePath(dir, f))
	}
	spec.Profiles = append(append(spec.Profiles, a.profiles.Values...), st.cfg.Profiles...)

	for _, section := range []struct {
		name  string
		value starlark.Value
		into  *map[string]any
	}{
		{"services", a.services, &spec.Services},
		{"volumes", a.volumes, &spec.Volumes},
		{"networks", a.networks, &spec.Networks},
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
	d.explicit = a.project.set
	if a.project.set {
		if err := target.ValidateName("project", a.project.value); err != nil {
			return nil, fmt.Errorf("%s: for parameter project: %v", b.Name(), err)
		}
	}
	if st.cfg.Project != "" {
		spec.Project, d.explicit = st.cfg.Project, true
	}

	t, err := d.resolve(st)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", b.Name(), err)
	}
	d.target = t
	return d, nil
}

// localDeploymentBuiltin implements
// local_deployment(project = None, compose = None, services = None,
// volumes = None, networks = None, env = {}, env_files = [], profiles = []).
func localDeploymentBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := atMostPositional(b, args, 0, ""); err != nil {
		return nil, err
	}
	a := newComposeArgs()
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, a.pairs()...); err != nil {
		return nil, err
	}
	return newDeployment(thread, b, a, nil)
}

// swarmDeploymentBuiltin implements
// swarm_deployment(endpoint = None, <local_deployment's arguments>,
// images = "pull").
func swarmDeploymentBuiltin(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := atMostPositional(b, args, 0, ""); err != nil {
		return nil, err
	}
	var (
		a        = newComposeArgs()
		endpoint optionalString
		images   = target.ImagesPull
	)
	pairs := append([]any{"endpoint?", &endpoint}, a.pairs()...)
	pairs = append(pairs, "images?", &images)
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, pairs...); err != nil {
		return nil, err
	}
	if endpoint.set {
		if err := validateEndpoint(endpoint.value); err != nil {
			return nil, fmt.Errorf("%s: for parameter endpoint: %v", b.Name(), err)
		}
	}
	if images != target.ImagesPull && images != target.ImagesLoad {
		return nil, fmt.Errorf("%s: for parameter images: want %q (each node pulls) or %q (copied from this machine's engine), got %q", b.Name(), target.ImagesPull, target.ImagesLoad, images)
	}
	return newDeployment(thread, b, a, &swarmOptions{endpoint: endpoint.value, images: images})
}

// validateEndpoint accepts the Engine API addresses a swarm manager can be
// reached at: a unix socket, or plain TCP (the lab's managers listen on
// tcp without TLS). Checked here so that a typo fails at its line rather
// than when a verb first dials.
func validateEndpoint(ep string) error {
	want := fmt.Sprintf(`want "unix:///path/to/docker.sock" or "tcp://host:port", got %q`, ep)
	scheme, rest, ok := strings.Cut(ep, "://")
	if !ok {
		return fmt.Errorf("%s", want)
	}
	switch scheme {
	case "unix":
		if !strings.HasPrefix(rest, "/") {
			return fmt.Errorf("%s: a unix socket path must be absolute", want)
		}
		return nil
	case "tcp":
		host, port, err := net.SplitHostPort(rest)
		if err != nil || host == "" || strings.Contains(rest, "/") {
			return fmt.Errorf("%s: name a host and a port", want)
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%s: port must be from 1 to 65535", want)
		}
		return nil
	}
	return fmt.Errorf("%s: scheme %q is not supported", want, scheme)
}

// resolveFinal settles the project name once the subject is known: a
// deployment without an explicit project takes the subject's name. The
// subject's binary images are given to it here, once all are declared.
func (d *deploymentValue) resolveFinal(st *state, subjectName string, images []target.BinaryImage) error {
	d.images = images
	if d.explicit && len(d.images) == 0 {
		return nil
	}
	if !d.explicit {
		d.compose.Project = subjectName
	}
	t, err := d.resolve(st)
	if err != nil {
		return &posError{pos: d.pos, msg: fmt.Sprintf("%s: %v", d.builtin, err)}
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
