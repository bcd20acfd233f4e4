package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/opdeploy/opdeploy/engine"
	"github.com/opdeploy/opdeploy/suite"
	"github.com/opdeploy/opdeploy/target"
)

// scriptHarness is what one script of `opdeploy test` runs with: its
// project, the opdeploy command, the commands that act on the script's
// subject (http, wait-healthy), the conditions, and the teardown.
type scriptHarness struct {
	ctx      context.Context // ends at the script's timeout, or when the run is interrupted
	tgts     targets
	project  string
	opdeploy string // the running binary, as bin/opdeploy
	record   string // where the script's opdeploy commands record their subject

	mu        sync.Mutex
	loaded    *engine.Subject
	loadedRaw string
}

// knownKinds are the kinds of target [target:KIND] accepts: those
// DESIGN.md names. A subject's kind is read from its target, so a kind
// that lands later needs nothing here but its name.
var knownKinds = []string{"local", "swarm"}

// Defaults of the harness's commands.
const (
	waitHealthyDefault = 60 * time.Second // as ctx.wait_healthy
	httpTimeout        = 10 * time.Second
)

func (r *testRun) harness(ctx context.Context, s suite.Script) (*suite.Harness, error) {
	h := &scriptHarness{ctx: ctx, tgts: r.tgts, project: scriptProject(r.prefix, s.File), opdeploy: filepath.Join(r.bin, "opdeploy")}
	return &suite.Harness{
		Setup:     h.setup(r.bin),
		Condition: h.condition,
		Fallible: map[string]suite.Command{
			"opdeploy":     h.run,
			"http":         h.http,
			"wait-healthy": h.waitHealthy,
		},
		Teardown: h.teardown,
		Keep:     h.keep,
	}, nil
}

var notInName = regexp.MustCompile(`[^a-z0-9]+`)

// scriptProject names a script's project: PREFIX-SCRIPT-RANDOM, a name of
// its own each run, so that scripts run side by side (-j) and next to the
// user's own deployment without touching it.
func scriptProject(prefix, file string) string {
	name := strings.Trim(notInName.ReplaceAllString(strings.ToLower(strings.TrimSuffix(filepath.Base(file), ".txtar")), "-"), "-")
	if len(name) > 24 {
		name = strings.TrimRight(name[:24], "-")
	}
	if name == "" {
		name = "script"
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return prefix + "-" + name + "-" + hex.EncodeToString(b)
}

// setup completes a script's environment: opdeploy first on PATH, the
// project in $PROJECT and OPDEPLOY_PROJECT (which every verb honours), and
// TMPDIR the runner's own, where opdeploy keeps its project locks: the
// teardown then waits for an opdeploy the script left changing the
// project (testscript would give each script a TMPDIR under $WORK).
func (h *scriptHarness) setup(bin string) func(env *testscript.Env) error {
	return func(env *testscript.Env) error {
		env.Setenv("PATH", bin+string(os.PathListSeparator)+env.Getenv("PATH"))
		env.Setenv("TMPDIR", os.TempDir())
		env.Setenv("PROJECT", h.project)
		env.Setenv("OPDEPLOY_PROJECT", h.project)
		dir := filepath.Join(env.WorkDir, ".opdeploy")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		h.record = filepath.Join(dir, "subject.json")
		env.Setenv(subjectRecordEnv, h.record)
		return nil
	}
}

// run is the opdeploy command: the running binary, in a process of its
// own, with the script's environment and folder.
func (h *scriptHarness) run(ts *testscript.TestScript, args []string) error {
	err := ts.Exec(h.opdeploy, args...)
	if err != nil && h.ctx.Err() != nil {
		return fmt.Errorf("%v (%v)", err, context.Cause(h.ctx))
	}
	return err
}

// subject evaluates the subject the script's last opdeploy command read,
// as that command did; it is evaluated again only when that changes.
func (h *scriptHarness) subject() (*engine.Subject, error) {
	rec, raw, ok, err := readSubjectRecord(h.record)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errors.New("no subject yet: http, wait-healthy and [target:KIND] act on the subject of the script's last opdeploy command, and none has read one")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.loaded != nil && string(raw) == h.loadedRaw {
		return h.loaded, nil
	}
	s, err := engine.Load(h.ctx, rec.File, rec.options(h.tgts))
	if err != nil {
		return nil, fmt.Errorf("the script's subject %s: %w", relativize(rec.File), err)
	}
	h.loaded, h.loadedRaw = s, string(raw)
	return s, nil
}

func (h *scriptHarness) operator() (target.Operator, error) {
	s, err := h.subject()
	if err != nil {
		return nil, err
	}
	op, ok := s.Target.(target.Operator)
	if !ok {
		return nil, fmt.Errorf("%s targets cannot reach services", s.Target.Kind())
	}
	return op, nil
}

// http is `http SERVICE PORT PATH`: a GET reaching the service's first
// running replica as checks do (docs/checks.md). The body goes to stdout;
// a status of 400 or more, or no answer, is a failure.
func (h *scriptHarness) http(ts *testscript.TestScript, args []string) error {
	if len(args) != 3 {
		ts.Fatalf("usage: http SERVICE PORT PATH")
	}
	port, err := strconv.Atoi(args[1])
	if err != nil || port < 1 || port > 65535 {
		ts.Fatalf("http: port %q: want a number from 1 to 65535", args[1])
	}
	if !strings.HasPrefix(args[2], "/") {
		ts.Fatalf("http: path %q must begin with /", args[2])
	}
	op, err := h.operator()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(h.ctx, httpTimeout)
	defer cancel()
	addr, err := op.Endpoint(ctx, args[0], port)
	if err != nil {
		return err
	}
	url := "http://" + addr + args[2]
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	fmt.Fprintf(ts.Stdout(), "%s", body)
	if err != nil {
		return fmt.Errorf("GET %s: reading the body: %w", url, err)
	}
	if resp.StatusCode >= 400 {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// waitHealthy is `wait-healthy SERVICE... [--timeout D]`: wait, driven by
// the engine's events, until the services are ready (the rule of
// docs/compose.md, as ctx.wait_healthy).
func (h *scriptHarness) waitHealthy(ts *testscript.TestScript, args []string) error {
	const usage = "usage: wait-healthy SERVICE... [--timeout D]"
	timeout := waitHealthyDefault
	var services []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--timeout" || a == "-timeout":
			if i+1 == len(args) {
				ts.Fatalf("%s", usage)
			}
			i++
			a = "--timeout=" + args[i]
			fallthrough
		case strings.HasPrefix(a, "--timeout="):
			d, err := time.ParseDuration(strings.TrimPrefix(a, "--timeout="))
			if err != nil || d <= 0 {
				ts.Fatalf("wait-healthy: --timeout %q: want a duration such as 30s", strings.TrimPrefix(a, "--timeout="))
			}
			timeout = d
		case strings.HasPrefix(a, "-"):
			ts.Fatalf("%s", usage)
		default:
			services = append(services, a)
		}
	}
	if len(services) == 0 {
		ts.Fatalf("%s", usage)
	}
	op, err := h.operator()
	if err != nil {
		return err
	}
	return op.WaitHealthy(h.ctx, services, timeout)
}

// condition adds [docker] and [target:KIND] to testscript's conditions.
func (h *scriptHarness) condition(cond string) (bool, error) {
	if cond == "docker" {
		return dockerReachable(h.ctx, h.tgts)
	}
	if kind, ok := strings.CutPrefix(cond, "target:"); ok {
		if !knownKind(kind) {
			return false, fmt.Errorf("unknown target kind %q (kinds: %s)", kind, strings.Join(knownKinds, ", "))
		}
		s, err := h.subject()
		if err != nil {
			return false, err
		}
		return s.Target.Kind() == kind, nil
	}
	return false, fmt.Errorf("unknown condition %q (opdeploy test adds docker and target:KIND to testscript's exec:PROGRAM, unix, net, GOOS and GOARCH names)", cond)
}

func knownKind(kind string) bool {
	for _, k := range knownKinds {
		if k == kind {
			return true
		}
	}
	return false
}

// dockerReachable is [docker]: the Docker daemon answers. In CI
// (CI=true) a daemon that does not is an error, not a skip: a CI job
// whose scripts all skip would pass having tested nothing.
func dockerReachable(ctx context.Context, tgts targets) (bool, error) {
	if _, err := tgts.docker.Client(ctx); err != nil {
		if os.Getenv("CI") == "true" {
			return false, err
		}
		return false, nil
	}
	return true, nil
}

// teardown removes everything labelled with the script's project. On a
// machine whose daemon does not answer, nothing can have been made.
func (h *scriptHarness) teardown(ctx context.Context) error {
	if _, err := h.tgts.docker.Client(ctx); err != nil {
		return nil
	}
	_, err := h.tgts.purge(ctx, h.project)
	return err
}

// keep says how to remove what a failed script kept.
func (h *scriptHarness) keep() string {
	msg := fmt.Sprintf("project %s kept; remove it with: opdeploy test --purge %s", h.project, h.project)
	if rec, _, ok, _ := readSubjectRecord(h.record); ok {
		down := []string{"opdeploy down", relativize(rec.File)}
		keys := make([]string, 0, len(rec.Params))
		for k := range rec.Params {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			down = append(down, "--set "+k+"="+rec.Params[k])
		}
		down = append(down, "-p "+h.project, "-v --remove-orphans")
		msg += "\nor: " + strings.Join(down, " ")
	}
	return msg
}
