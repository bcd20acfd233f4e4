package starlark

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/opdeploy/opdeploy/target"
)

func TestSwarmDeploymentArguments(t *testing.T) {
	s, r := mustEval(t, MapFS{root + "/main.star": `
img = binary_image("opdeploy/etcd:debian", binaries = ["/usr/bin/etcd"])
d = swarm_deployment(
    endpoint = "tcp://10.0.0.1:2375",
    compose = "compose.yaml",
    services = {"etcd0": {"image": img}},
    volumes = {"etcd0-data": {}},
    networks = {"net": {"driver": "overlay"}},
    env = {"TAG": "1"},
    env_files = ["lab.env"],
    profiles = ["extra"],
    images = "load",
)
subject(name = "etcd", target = d)
kind = d.kind
`}, nil)
	if len(r.calls) != 0 {
		t.Errorf("a swarm deployment reached the local resolver: %+v", r.calls)
	}
	// Validated at the call, then again with the subject's name and images.
	if len(r.swarmCalls) != 2 {
		t.Fatalf("swarm resolver calls = %+v", r.swarmCalls)
	}
	first, final := r.swarmCalls[0], r.swarmCalls[1]
	if first.Project != "" || len(first.BinaryImages) != 0 {
		t.Errorf("first call: project %q images %+v, want neither yet", first.Project, first.BinaryImages)
	}
	if final.Project != "etcd" || final.Endpoint != "tcp://10.0.0.1:2375" || final.Images != target.ImagesLoad {
		t.Errorf("final spec: project %q endpoint %q images %q", final.Project, final.Endpoint, final.Images)
	}
	if len(final.BinaryImages) != 1 || final.BinaryImages[0].Tag != "opdeploy/etcd:debian" || final.BinaryImages[0].Pos.Line != 2 {
		t.Errorf("binary images = %+v", final.BinaryImages)
	}
	if want := []string{root + "/compose.yaml"}; !reflect.DeepEqual(final.ComposeFiles, want) {
		t.Errorf("compose files %q, want %q", final.ComposeFiles, want)
	}
	if want := []string{root + "/lab.env"}; !reflect.DeepEqual(final.EnvFiles, want) {
		t.Errorf("env files %q, want %q", final.EnvFiles, want)
	}
	if final.Env["TAG"] != "1" || !reflect.DeepEqual(final.Profiles, []string{"extra"}) {
		t.Errorf("env %v profiles %v", final.Env, final.Profiles)
	}
	if img := final.Services["etcd0"].(map[string]any)["image"]; img != "opdeploy/etcd:debian" {
		t.Errorf("service image %v, want the binary image's tag", img)
	}
	if final.Volumes["etcd0-data"] == nil || final.Networks["net"] == nil {
		t.Errorf("volumes %v networks %v", final.Volumes, final.Networks)
	}
	if final.Pos.Line != 3 || final.Pos.Col != 21 {
		t.Errorf("position %v, want 3:21", final.Pos)
	}
	if s.Swarm == nil || s.Swarm.Endpoint != final.Endpoint || s.Swarm.Images != target.ImagesLoad {
		t.Errorf("Subject.Swarm = %+v", s.Swarm)
	}
	if s.Target.Kind() != "swarm" {
		t.Errorf("kind %q", s.Target.Kind())
	}
}

func TestSwarmDeploymentDefaults(t *testing.T) {
	s, r := mustEval(t, MapFS{root + "/main.star": `
d = swarm_deployment(project = "p", services = {"web": {"image": "nginx"}})
subject(name = "demo", target = d)
`}, nil)
	// An explicit project and no binary image: resolved once, at the call.
	if len(r.swarmCalls) != 1 {
		t.Fatalf("swarm resolver calls = %+v", r.swarmCalls)
	}
	spec := r.swarmCalls[0]
	if spec.Endpoint != "" || spec.Images != target.ImagesPull || spec.Project != "p" {
		t.Errorf("spec: endpoint %q (want DOCKER_HOST's \"\") images %q project %q", spec.Endpoint, spec.Images, spec.Project)
	}
	if s.Swarm == nil || s.Swarm.Images != target.ImagesPull {
		t.Errorf("Subject.Swarm = %+v", s.Swarm)
	}
}

func TestLocalSubjectHasNoSwarmSpec(t *testing.T) {
	s, _ := mustEval(t, MapFS{root + "/main.star": minimal}, nil)
	if s.Swarm != nil {
		t.Errorf("Subject.Swarm = %+v for a local deployment", s.Swarm)
	}
}

func TestSwarmDeploymentValue(t *testing.T) {
	for expr, want := range map[string]string{
		`d.kind`:     `"swarm"`,
		`d.project`:  `"p"`,
		`d.services`: `["web"]`,
		`str(d)`:     `"deployment(kind = \"swarm\", project = \"p\")"`,
	} {
		s, _ := mustEval(t, MapFS{root + "/main.star": `
d = swarm_deployment(project = "p", services = {"web": {"image": "nginx"}})
got = ` + expr + `
subject(name = "demo", target = d, doc = repr(got))
`}, nil)
		if s.Doc != want {
			t.Errorf("%s = %s, want %s", expr, s.Doc, want)
		}
	}
}

func TestSwarmDeploymentErrors(t *testing.T) {
	svc := `services = {"web": {"image": "x"}}`
	endpointWant := `want "unix:///path/to/docker.sock" or "tcp://host:port", got `
	cases := []struct{ src, want string }{
		{`swarm_deployment(` + svc + `, images = "push")`, `/subjects/main.star:1:17: swarm_deployment: for parameter images: want "pull" (each node pulls) or "load" (copied from this machine's engine), got "push"`},
		{`swarm_deployment(` + svc + `, images = 1)`, `/subjects/main.star:1:17: swarm_deployment: for parameter "images": got int, want string`},
		{`swarm_deployment(` + svc + `, endpoint = "http://m:2375")`, `/subjects/main.star:1:17: swarm_deployment: for parameter endpoint: ` + endpointWant + `"http://m:2375": scheme "http" is not supported`},
		{`swarm_deployment(` + svc + `, endpoint = "m:2375")`, `/subjects/main.star:1:17: swarm_deployment: for parameter endpoint: ` + endpointWant + `"m:2375"`},
		{`swarm_deployment(` + svc + `, endpoint = "tcp://m")`, `/subjects/main.star:1:17: swarm_deployment: for parameter endpoint: ` + endpointWant + `"tcp://m": name a host and a port`},
		{`swarm_deployment(` + svc + `, endpoint = "tcp://:2375")`, `/subjects/main.star:1:17: swarm_deployment: for parameter endpoint: ` + endpointWant + `"tcp://:2375": name a host and a port`},
		{`swarm_deployment(` + svc + `, endpoint = "tcp://m:99999")`, `/subjects/main.star:1:17: swarm_deployment: for parameter endpoint: ` + endpointWant + `"tcp://m:99999": port must be from 1 to 65535`},
		{`swarm_deployment(` + svc + `, endpoint = "unix://var/run/docker.sock")`, `/subjects/main.star:1:17: swarm_deployment: for parameter endpoint: ` + endpointWant + `"unix://var/run/docker.sock": a unix socket path must be absolute`},
		{`swarm_deployment(` + svc + `, endpoint = 2375)`, `/subjects/main.star:1:17: swarm_deployment: for parameter "endpoint": got int, want string or None`},
		{`swarm_deployment()`, `/subjects/main.star:1:17: swarm_deployment: needs compose = "file.yaml" (or a list of files), services = {...}, or both`},
		{`swarm_deployment("tcp://m:2375")`, `/subjects/main.star:1:17: swarm_deployment: takes keyword arguments only (got 1 positional)`},
		{`swarm_deployment(` + svc + `, endpont = "tcp://m:1")`, `/subjects/main.star:1:17: swarm_deployment: unexpected keyword argument "endpont" (did you mean endpoint?)`},
		{`swarm_deployment(services = [])`, `/subjects/main.star:1:17: swarm_deployment: for parameter services: got list, want dict of name to definition`},
		{`swarm_deployment(project = "Bad", ` + svc + `)`, `/subjects/main.star:1:17: swarm_deployment: for parameter project: invalid project name "Bad": use lowercase letters, digits, '-' and '_', starting with a letter or digit`},
	}
	for _, c := range cases {
		t.Run(c.want[strings.Index(c.want, ": ")+2:], func(t *testing.T) {
			wantError(t, MapFS{root + "/main.star": c.src}, c.want)
		})
	}
}

func TestSwarmEndpointsAccepted(t *testing.T) {
	for _, ep := range []string{"unix:///var/run/docker.sock", "tcp://10.0.0.1:2375", "tcp://manager1:2376", "tcp://[::1]:2375"} {
		if err := validateEndpoint(ep); err != nil {
			t.Errorf("%s: %v", ep, err)
		}
	}
}

// A swarm resolver's error names the swarm_deployment call, also when it
// comes from the final resolve with the subject's name.
func TestSwarmResolverErrorIsPositioned(t *testing.T) {
	r := &fakeResolver{swarmErr: func(spec target.SwarmSpec) error {
		if spec.Project == "demo" {
			return errors.New(`service "web": ports: mode ingress needs IPVS`)
		}
		return nil
	}}
	s, err := Eval(context.Background(), Config{
		File: root + "/main.star", Root: root, Resolver: r,
		FS: MapFS{root + "/main.star": "\nd = swarm_deployment(services = {\"web\": {\"image\": \"x\"}})\nsubject(name = \"demo\", target = d)\n"},
	})
	if err == nil || err.Error() != `/subjects/main.star:2:21: swarm_deployment: service "web": ports: mode ingress needs IPVS` {
		t.Fatalf("s = %v, err = %v", s, err)
	}
}
