package starlark

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/opdeploy/opdeploy/target"
)

// fakeResolver builds targets from the Starlark services alone, so these
// tests need neither compose files nor Docker.
type fakeResolver struct {
	calls      []target.LocalSpec
	swarmCalls []target.SwarmSpec
	err        error
	// swarmErr, when set, decides a swarm resolve's error from its spec.
	swarmErr func(target.SwarmSpec) error
}

func (r *fakeResolver) Swarm(_ context.Context, spec target.SwarmSpec) (target.DeploymentTarget, error) {
	r.swarmCalls = append(r.swarmCalls, spec)
	if r.err != nil {
		return nil, r.err
	}
	if r.swarmErr != nil {
		if err := r.swarmErr(spec); err != nil {
			return nil, err
		}
	}
	return &fakeTarget{spec: target.LocalSpec{ComposeSpec: spec.ComposeSpec, Pos: spec.Pos}, kind: "swarm"}, nil
}

func (r *fakeResolver) Local(_ context.Context, spec target.LocalSpec) (target.DeploymentTarget, error) {
	r.calls = append(r.calls, spec)
	if r.err != nil {
		return nil, r.err
	}
	return &fakeTarget{spec: spec}, nil
}

type fakeTarget struct {
	target.DeploymentTarget // lifecycle methods are never called here
	spec                    target.LocalSpec
	kind                    string // "fake" unless set
}

func (f *fakeTarget) Kind() string {
	if f.kind != "" {
		return f.kind
	}
	return "fake"
}
func (f *fakeTarget) Project() string { return f.spec.Project }
func (f *fakeTarget) Describe() target.Description {
	d := target.Description{Kind: "fake", Project: f.spec.Project, Inactive: map[string][]string{}}
	var names []string
	for name := range f.spec.Services {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		def, _ := f.spec.Services[name].(map[string]any)
		if profiles, ok := def["profiles"].([]any); ok && len(profiles) > 0 {
			d.Inactive[name] = []string{fmt.Sprint(profiles[0])}
			continue
		}
		d.Services = append(d.Services, target.ServiceSpec{Name: name})
	}
	return d
}

const root = "/subjects"

func eval(t *testing.T, files MapFS, params map[string]string) (*Subject, *fakeResolver, error) {
	t.Helper()
	r := &fakeResolver{}
	s, err := Eval(context.Background(), Config{
		File: root + "/main.star", Root: root, Params: params, FS: files, Resolver: r,
	})
	return s, r, err
}

func mustEval(t *testing.T, files MapFS, params map[string]string) (*Subject, *fakeResolver) {
	t.Helper()
	s, r, err := eval(t, files, params)
	if err != nil {
		t.Fatalf("Eval: %v", err)
	}
	return s, r
}

func wantError(t *testing.T, files MapFS, want string) *Error {
	t.Helper()
	_, _, err := eval(t, files, nil)
	if err == nil {
		t.Fatalf("Eval succeeded, want error %q", want)
	}
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("error %q (%T) is not a *starlark.Error", err, err)
	}
	if got := err.Error(); got != want {
		t.Fatalf("error:\n got: %s\nwant: %s", got, want)
	}
	return se
}

const minimal = `
d = local_deployment(services = {"web": {"image": "nginx"}})
subject(name = "demo", target = d)
`

func TestMinimalSubject(t *testing.T) {
	s, r := mustEval(t, MapFS{root + "/main.star": minimal}, nil)
	if s.Name != "demo" || s.Target.Project() != "demo" {
		t.Errorf("name %q project %q, want demo/demo", s.Name, s.Target.Project())
	}
	// Validated once at the call, then again with the subject's name.
	if len(r.calls) != 2 || r.calls[0].Project != "" || r.calls[1].Project != "demo" {
		t.Errorf("resolver calls = %+v", r.calls)
	}
	if got := r.calls[1].Dir; got != root {
		t.Errorf("project dir %q, want %q", got, root)
	}
	if s.Pos.Line != 3 || s.Pos.Col != 8 {
		t.Errorf("subject position %v, want line 3 col 8", s.Pos)
	}
}

func TestExplicitProjectIsResolvedOnce(t *testing.T) {
	_, r := mustEval(t, MapFS{root + "/main.star": `
d = local_deployment(project = "p1", services = {"web": {"image": "nginx"}})
subject(name = "demo", target = d)
`}, nil)
	if len(r.calls) != 1 || r.calls[0].Project != "p1" {
		t.Errorf("resolver calls = %+v", r.calls)
	}
}

func TestParamsGenerateServices(t *testing.T) {
	src := `
n = int(params.get("nodes", "3"))
svcs = {"node%d" % i: {"image": "x", "command": ["run", "--id", str(i)]} for i in range(n)}
d = local_deployment(services = svcs)
subject(name = "gen", target = d, checks = [tcp_check("c%d" % i, service = "node%d" % i, port = 80) for i in range(n)])
`
	s, r := mustEval(t, MapFS{root + "/main.star": src}, map[string]string{"nodes": "5"})
	if got := len(s.Target.Describe().Services); got != 5 {
		t.Errorf("%d services, want 5", got)
	}
	if len(s.Checks) != 5 {
		t.Errorf("%d checks, want 5", len(s.Checks))
	}
	node3 := r.calls[0].Services["node3"].(map[string]any)
	if cmd := node3["command"].([]any); cmd[2] != "3" {
		t.Errorf("node3 command = %v", cmd)
	}
}

func TestParamsAreFrozen(t *testing.T) {
	wantError(t, MapFS{root + "/main.star": `params["x"] = "1"`},
		`/subjects/main.star:1:7: cannot insert into frozen hash table`)
}

func TestPathsResolveAgainstCallingFile(t *testing.T) {
	files := MapFS{
		root + "/main.star": `
load("lib/deploy.star", "make")
subject(name = "demo", target = make())
`,
		root + "/lib/deploy.star": `
def make():
    return local_deployment(compose = ["compose.yaml", "../other.yaml"], env_files = "x.env")
`,
	}
	_, r := mustEval(t, files, nil)
	spec := r.calls[0]
	if got := strings.Join(spec.ComposeFiles, " "); got != "/subjects/lib/compose.yaml /subjects/other.yaml" {
		t.Errorf("compose files = %s", got)
	}
	if spec.EnvFiles[0] != "/subjects/lib/x.env" || spec.Dir != "/subjects/lib" {
		t.Errorf("env files %v, dir %s", spec.EnvFiles, spec.Dir)
	}
}

func TestLoadIsCachedByResolvedPath(t *testing.T) {
	files := MapFS{
		root + "/main.star": `
load("lib/a.star", "a")
load("lib/../lib/a.star", a2 = "a")
load("lib/b.star", "b")
if a != a2 or a != b:
    fail("module loaded twice: %s %s %s" % (a, a2, b))
subject(name = "demo", target = local_deployment(services = {"s": {"image": "x"}}))
`,
		root + "/lib/a.star": `a = [len(params)]`,
		root + "/lib/b.star": `load("a.star", "a")
b = a`,
	}
	mustEval(t, files, nil)
}

func TestLoadCycle(t *testing.T) {
	files := MapFS{
		root + "/main.star": `load("a.star", "x")`,
		root + "/a.star":    `load("b.star", "y")` + "\nx = 1",
		root + "/b.star":    `load("a.star", "x")` + "\ny = 1",
	}
	se := wantError(t, files, `/subjects/b.star:1:1: cannot load a.star: load cycle: a.star loads b.star loads a.star`)
	if len(se.Stack) != 3 {
		t.Errorf("backtrace has %d frames, want 3 (main, a, b):\n%s", len(se.Stack), se.Backtrace())
	}
}

func TestLoadCannotEscapeRoot(t *testing.T) {
	wantError(t, MapFS{root + "/main.star": `load("../etc/x.star", "x")`},
		`/subjects/main.star:1:1: cannot load ../etc/x.star: "../etc/x.star" is outside the subject root /subjects (set --root to widen it)`)
}

func TestLoadMissingModule(t *testing.T) {
	wantError(t, MapFS{root + "/main.star": "\n\nload(\"nope.star\", \"x\")"},
		`/subjects/main.star:3:1: cannot load nope.star: /subjects/nope.star does not exist`)
}

func TestSyntaxErrorInLoadedFile(t *testing.T) {
	se := wantError(t, MapFS{
		root + "/main.star": `load("lib.star", "x")`,
		root + "/lib.star":  "x = (1,\n",
	}, `/subjects/lib.star:2:1: got end of file, want ')'`)
	if se.Backtrace() == "" {
		t.Error("want a backtrace through the load")
	}
}

func TestInfiniteLoopStops(t *testing.T) {
	// The position is wherever the interpreter was when the limit hit, so
	// only the file and the message are asserted.
	_, err := Eval(context.Background(), Config{
		File: root + "/main.star", FS: MapFS{root + "/main.star": "x = 0\nwhile True:\n    x += 1\n"},
		Resolver: &fakeResolver{}, MaxSteps: 100_000,
	})
	if err == nil || !regexp.MustCompile(`^/subjects/main.star:\d+:\d+: evaluation stopped after 100000 steps \(an infinite loop\?\)$`).MatchString(err.Error()) {
		t.Fatalf("err = %v", err)
	}
}

func TestCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		_, err := Eval(ctx, Config{
			File: root + "/main.star", FS: MapFS{root + "/main.star": "while True:\n    pass\n"},
			Resolver: &fakeResolver{}, MaxSteps: 1 << 62,
		})
		done <- err
	}()
	cancel()
	err := <-done
	if err == nil || !strings.Contains(err.Error(), "evaluation cancelled: context canceled") {
		t.Fatalf("err = %v", err)
	}
}

func TestRecursionIsAnError(t *testing.T) {
	wantError(t, MapFS{root + "/main.star": "def f(n):\n    return f(n)\nf(1)\n"},
		`/subjects/main.star:2:12: function f called recursively`)
}

func TestSubjectCount(t *testing.T) {
	wantError(t, MapFS{root + "/main.star": `x = 1`},
		`/subjects/main.star: no subject declared: call subject(name = ..., target = ...) once`)
	wantError(t, MapFS{root + "/main.star": minimal + `subject(name = "again", target = d)`},
		`/subjects/main.star:4:8: subject: a subject is already declared at /subjects/main.star:3:8; a subject file declares exactly one`)
}

func TestBuiltinArgumentErrors(t *testing.T) {
	dep := "d = local_deployment(services = {\"web\": {\"image\": \"x\"}})\n"
	cases := []struct{ src, want string }{
		{`local_deployment(compse = "x.yaml")`, `/subjects/main.star:1:17: local_deployment: unexpected keyword argument "compse" (did you mean compose?)`},
		{`local_deployment("x.yaml")`, `/subjects/main.star:1:17: local_deployment: takes keyword arguments only (got 1 positional)`},
		{`local_deployment()`, `/subjects/main.star:1:17: local_deployment: needs compose = "file.yaml" (or a list of files), services = {...}, or both`},
		{`local_deployment(compose = 3)`, `/subjects/main.star:1:17: local_deployment: for parameter "compose": got int, want string or list of strings`},
		{`local_deployment(services = [])`, `/subjects/main.star:1:17: local_deployment: for parameter services: got list, want dict of name to definition`},
		{`local_deployment(services = {"a": {"x": len}})`, `/subjects/main.star:1:17: local_deployment: for parameter services: services["a"]["x"]: got builtin_function_or_method, want a compose value (string, int, float, bool, None, list or dict)`},
		{`local_deployment(project = "Bad Name", services = {})`, `/subjects/main.star:1:17: local_deployment: for parameter project: invalid project name "Bad Name": use lowercase letters, digits, '-' and '_', starting with a letter or digit`},
		{dep + `http_check("h", service = "web", port = "80")`, `/subjects/main.star:2:11: http_check: for parameter "port": got string, want int`},
		{dep + `http_check("h", service = "web", port = 70000)`, `/subjects/main.star:2:11: http_check: for parameter "port": port 70000 is out of range 1-65535`},
		{dep + `http_check("h", "web", 80)`, `/subjects/main.star:2:11: http_check: takes at most 1 positional argument (name); pass the others by keyword`},
		{dep + `http_check("h", service = "web", port = 80, timeout = "soon")`, `/subjects/main.star:2:11: http_check: for parameter "timeout": "soon" is not a duration (examples: "500ms", "2s", "1m30s")`},
		{dep + `http_check("h", service = "web", port = 80, path = "health")`, `/subjects/main.star:2:11: http_check: for parameter path: "health" must start with /`},
		{dep + `exec_check("e", service = "web", command = [])`, `/subjects/main.star:2:11: exec_check: for parameter "command": must not be empty`},
		{dep + `subject(name = "x", target = "d")`, `/subjects/main.star:2:8: subject: for parameter target: got string, want deployment (from local_deployment or swarm_deployment)`},
		{dep + `subject(name = "x", target = d, checks = [1])`, `/subjects/main.star:2:8: subject: for parameter checks: element 0: got int, want check (from http_check, tcp_check, exec_check or check)`},
		{dep + `subject(name = "X", target = d)`, `/subjects/main.star:2:8: subject: for parameter name: invalid subject name "X": use lowercase letters, digits, '-' and '_', starting with a letter or digit`},
		{`undefined_builtin()`, `/subjects/main.star:1:1: undefined: undefined_builtin`},
	}
	for _, c := range cases {
		t.Run(c.want[strings.Index(c.want, ": ")+2:], func(t *testing.T) {
			wantError(t, MapFS{root + "/main.star": c.src}, c.want)
		})
	}
}

func TestCheckOnUnknownService(t *testing.T) {
	wantError(t, MapFS{root + "/main.star": `
d = local_deployment(services = {"web": {"image": "x"}, "db": {"image": "y"}})
c = tcp_check("db-up", service = "dbb", port = 5432)
subject(name = "demo", target = d, checks = [c])
`}, `/subjects/main.star:3:14: tcp_check "db-up": service "dbb" is not in project "demo" (services: db, web)`)
}

func TestCheckOnInactiveService(t *testing.T) {
	wantError(t, MapFS{root + "/main.star": `
d = local_deployment(services = {"web": {"image": "x"}, "load": {"image": "y", "profiles": ["bench"]}})
subject(name = "demo", target = d, checks = [tcp_check("l", service = "load", port = 1)])
`}, `/subjects/main.star:3:55: tcp_check "l": service "load" is not active in project "demo" (it needs profile bench)`)
}

func TestDuplicateCheckNames(t *testing.T) {
	wantError(t, MapFS{root + "/main.star": `
d = local_deployment(services = {"web": {"image": "x"}})
subject(name = "demo", target = d, checks = [
    tcp_check("up", service = "web", port = 1),
    tcp_check("up", service = "web", port = 2),
])
`}, `/subjects/main.star:5:14: tcp_check "up": a check with this name is already declared at /subjects/main.star:4:14`)
}

func TestChecks(t *testing.T) {
	s, _ := mustEval(t, MapFS{root + "/main.star": `
d = local_deployment(services = {"web": {"image": "x"}})
subject(name = "demo", target = d, checks = [
    http_check("h", service = "web", port = 80, path = "/healthz", expect_status = 204, timeout = time.second * 3),
    tcp_check("t", service = "web", port = 81),
    exec_check("e1", service = "web", command = "test -f /ready"),
    exec_check("e2", service = "web", command = ["probe", "--quiet"]),
])
`}, nil)
	got := fmt.Sprintf("%+v", s.Checks)
	for _, want := range []string{
		"Name:h Kind:http Service:web Port:80 Path:/healthz Expect:204 Command:[] Timeout:3s",
		"Name:t Kind:tcp Service:web Port:81 Path: Expect:0 Command:[] Timeout:2s",
		"Name:e1 Kind:exec Service:web Port:0 Path: Expect:0 Command:[sh -c test -f /ready] Timeout:5s",
		"Name:e2 Kind:exec Service:web Port:0 Path: Expect:0 Command:[probe --quiet] Timeout:5s",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("checks %s\nlack %s", got, want)
		}
	}
}

func TestSequences(t *testing.T) {
	s, _ := mustEval(t, MapFS{root + "/main.star": minimal + `
def roll(ctx):
    """Roll every node."""
    pass
def with_default(ctx, extra = 1):
    pass
sequence("roll", roll)
sequence("two", with_default, doc = "explicit doc")
sequence("lam", lambda ctx: None)
`}, nil)
	var got []string
	for _, seq := range s.Sequences {
		got = append(got, fmt.Sprintf("%s=%q@%d", seq.Name, seq.Doc, seq.Pos.Line))
	}
	if want := `roll="Roll every node."@10 two="explicit doc"@11 lam=""@12`; strings.Join(got, " ") != want {
		t.Errorf("sequences = %s, want %s", strings.Join(got, " "), want)
	}
}

func TestSequenceErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"def f(): pass\nsequence(\"s\", f)", `/subjects/main.star:2:9: sequence "s": function f must take one argument (ctx), but takes none`},
		{"def f(a, b): pass\nsequence(\"s\", f)", `/subjects/main.star:2:9: sequence "s": function f must take one argument (ctx), but requires 2`},
		{"sequence(\"s\", 3)", `/subjects/main.star:1:9: sequence: for parameter fn: got int, want callable`},
		{"sequence(\"bad name\", lambda c: 1)", `/subjects/main.star:1:9: sequence: invalid name "bad name": use letters, digits, '-', '_' and '.', starting with a letter or digit`},
		{"sequence(\"s\", lambda c: 1)\nsequence(\"s\", lambda c: 2)", `/subjects/main.star:2:9: sequence: "s" is already defined at /subjects/main.star:1:9`},
	}
	for _, c := range cases {
		// minimal occupies the first three lines.
		want := regexp.MustCompile(`main.star:(\d+):`).ReplaceAllStringFunc(c.want, func(m string) string {
			var line int
			fmt.Sscanf(m, "main.star:%d:", &line)
			return fmt.Sprintf("main.star:%d:", line+3)
		})
		wantError(t, MapFS{root + "/main.star": minimal + c.src}, want)
	}
}

func TestResolverErrorIsPositioned(t *testing.T) {
	r := &fakeResolver{err: errors.New(`compose.yaml: service "web": bad port`)}
	_, err := Eval(context.Background(), Config{
		File: root + "/main.star", Resolver: r,
		FS: MapFS{root + "/main.star": "\nd = local_deployment(compose = \"compose.yaml\")"},
	})
	if err == nil || err.Error() != `/subjects/main.star:2:21: local_deployment: compose.yaml: service "web": bad port` {
		t.Fatalf("err = %v", err)
	}
}

func TestModulesAvailable(t *testing.T) {
	mustEval(t, MapFS{root + "/main.star": minimal + `
s = struct(a = 1)
if s.a != 1: fail("struct")
if json.decode(json.encode({"k": [1]}))["k"][0] != 1: fail("json")
if time.parse_duration("1m") != time.minute: fail("time")
if len(set([1, 1, 2])) != 2: fail("set")
`}, nil)
}

func TestFailIsPositioned(t *testing.T) {
	wantError(t, MapFS{root + "/main.star": "n = 0\nif n < 1:\n    fail(\"nodes must be at least 1\")\n"},
		`/subjects/main.star:3:9: fail: nodes must be at least 1`)
}

func TestEntryOutsideRoot(t *testing.T) {
	_, err := Eval(context.Background(), Config{
		File: "/elsewhere/main.star", Root: root, Resolver: &fakeResolver{},
		FS: MapFS{"/elsewhere/main.star": minimal},
	})
	if err == nil || err.Error() != "/elsewhere/main.star is outside the root folder /subjects" {
		t.Fatalf("err = %v", err)
	}
}
