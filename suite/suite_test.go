package suite

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// writeScripts makes a folder of scripts and returns its path.
func writeScripts(t *testing.T, scripts map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range scripts {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// fakeHarness records teardowns; its `fails` command fails with a message.
type fakeHarness struct {
	mu        sync.Mutex
	teardowns []string
	failTear  bool
}

func (f *fakeHarness) prepare(_ context.Context, s Script) (*Harness, error) {
	return &Harness{
		Setup: func(env *testscript.Env) error {
			env.Setenv("PROJECT", "p-"+strings.TrimSuffix(filepath.Base(s.File), ".txtar"))
			return nil
		},
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"boom": func(*testscript.TestScript, bool, []string) { panic("boom") },
		},
		Fallible: map[string]Command{
			"fails": func(ts *testscript.TestScript, args []string) error {
				return errors.New("it failed: " + strings.Join(args, " "))
			},
		},
		Condition: func(cond string) (bool, error) {
			if cond == "yes" {
				return true, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
		Teardown: func(context.Context) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.teardowns = append(f.teardowns, s.Name)
			if f.failTear {
				return errors.New("could not remove container x")
			}
			return nil
		},
		Keep: func() string { return "kept project p" },
	}, nil
}

func runDir(t *testing.T, dir string, opts Options, f *fakeHarness) map[string]Result {
	t.Helper()
	scripts, err := Discover([]string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	opts.Prepare = f.prepare
	opts.Env = append(os.Environ(), "FROM_CALLER=42")
	out := map[string]Result{}
	for _, r := range Run(context.Background(), scripts, opts) {
		out[filepath.Base(r.File)] = r
	}
	return out
}

func TestRunOutcomes(t *testing.T) {
	dir := writeScripts(t, map[string]string{
		"pass.txtar": `# The caller's environment, $SUITE and the harness's variables.
exec echo $FROM_CALLER $PROJECT
stdout '^42 p-pass$'
exists $SUITE/pass.txtar
[yes] exec echo '{"all_healthy": true, "services": [1, 2, 3]}'
json .all_healthy == true
json '.services | length' == 3
! json .all_healthy == false
? exec false
? fails now
! fails
`,
		"fail.txtar": `exec echo hello
stdout hello
stdout goodbye
exec echo never
`,
		"skip.txtar":            "skip 'not today'\n",
		"unknown_command.txtar": "exec true\nfrobnicate now\n",
		"unknown_cond.txtar":    "[maybe] exec true\n",
		"fallible.txtar":        "fails for good\n",
		"question_bad.txtar":    "? stdout x\n",
		"json_bad.txtar":        "exec echo not json\n! json .a == 1\n",
		"panic.txtar":           "boom\n",
		"_kept_out/x.txtar":     "exec false\n",
		"testdata/y.txtar":      "exec false\n",
	})
	f := &fakeHarness{}
	got := runDir(t, dir, Options{Jobs: 3}, f)
	if len(got) != 9 {
		t.Fatalf("%d scripts ran, want 9 (folders _* and testdata are skipped): %v", len(got), got)
	}
	want := map[string]struct {
		status Status
		log    string
	}{
		"pass.txtar":            {Passed, ""},
		"fail.txtar":            {Failed, "fail.txtar:3: no match for `goodbye` found in stdout"},
		"skip.txtar":            {Skipped, ""},
		"unknown_command.txtar": {Failed, `unknown_command.txtar:2: unknown command "frobnicate"`},
		"unknown_cond.txtar":    {Failed, `unknown_cond.txtar:1: bad condition "maybe": unknown condition "maybe"`},
		"fallible.txtar":        {Failed, "fallible.txtar:1: fails: it failed: for good"},
		"question_bad.txtar":    {Failed, `question_bad.txtar:1: ? applies to commands that run something (exec, fails), not to "stdout"`},
		"json_bad.txtar":        {Failed, `json_bad.txtar:2: json .a == 1: stdout: output is not JSON`},
		"panic.txtar":           {Failed, "FAIL: panic: boom"},
	}
	for name, w := range want {
		r := got[name]
		if r.Status != w.status {
			t.Errorf("%s: %s, want %s\n%s", name, r.Status, w.status, r.Log)
		}
		if !strings.Contains(r.Log, w.log) {
			t.Errorf("%s: log does not contain %q:\n%s", name, w.log, r.Log)
		}
	}
	if strings.Contains(got["fail.txtar"].Log, "never") {
		t.Errorf("the script went on after its failure:\n%s", got["fail.txtar"].Log)
	}
	if r := got["skip.txtar"]; r.SkipReason != "not today" {
		t.Errorf("skip reason %q", r.SkipReason)
	}
	if len(f.teardowns) != 9 {
		t.Errorf("%d teardowns, want one per script: %v", len(f.teardowns), f.teardowns)
	}
}

// A failed teardown fails the script and says why; --keep-on-failure
// skips a failed script's teardown and keeps its work folder.
func TestTeardownAndKeep(t *testing.T) {
	dir := writeScripts(t, map[string]string{
		"pass.txtar": "exec true\n",
		"fail.txtar": "exec false\n",
	})
	f := &fakeHarness{failTear: true}
	got := runDir(t, dir, Options{}, f)
	if r := got["pass.txtar"]; r.Status != Failed || !strings.Contains(r.Log, "teardown: could not remove container x") {
		t.Errorf("pass with a failed teardown: %s\n%s", r.Status, r.Log)
	}

	f = &fakeHarness{}
	got = runDir(t, dir, Options{KeepOnFailure: true}, f)
	if len(f.teardowns) != 1 || !strings.HasSuffix(f.teardowns[0], "pass.txtar") {
		t.Errorf("teardowns %v, want only the passing script's", f.teardowns)
	}
	r := got["fail.txtar"]
	work := regexp.MustCompile(`\$WORK kept: (\S+)`).FindStringSubmatch(r.Kept)
	if !strings.Contains(r.Kept, "kept project p") || work == nil {
		t.Fatalf("kept: %q", r.Kept)
	}
	if _, err := os.Stat(work[1]); err != nil || filepath.Base(work[1]) != "script-fail" {
		t.Errorf("the failed script's $WORK %s: %v", work[1], err)
	}
	os.RemoveAll(filepath.Dir(work[1]))
}

// A script that outlives --timeout is stopped, fails, and says so.
func TestTimeout(t *testing.T) {
	dir := writeScripts(t, map[string]string{"slow.txtar": "exec sleep 30\n"})
	start := time.Now()
	got := runDir(t, dir, Options{Timeout: 2 * time.Second}, &fakeHarness{})
	r := got["slow.txtar"]
	if r.Status != Failed || !strings.Contains(r.Log, "timed out after 2s (--timeout)") {
		t.Errorf("%s\n%s", r.Status, r.Log)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %s", d)
	}
}

// --update rewrites a golden section that cmp finds different, and the
// script passes.
func TestUpdate(t *testing.T) {
	dir := writeScripts(t, map[string]string{"golden.txtar": "exec echo new\ncmp stdout want\n-- want --\nold\n"})
	got := runDir(t, dir, Options{Update: true}, &fakeHarness{})
	if r := got["golden.txtar"]; r.Status != Passed || !r.Updated {
		t.Fatalf("%s updated=%v\n%s", r.Status, r.Updated, r.Log)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "golden.txtar"))
	if !strings.HasSuffix(string(data), "-- want --\nnew\n") {
		t.Errorf("script after update:\n%s", data)
	}
}

// Jobs runs scripts at once: two scripts that each wait for the other
// pass only if they run together.
func TestJobsRunScriptsAtOnce(t *testing.T) {
	dir := writeScripts(t, map[string]string{"a.txtar": "meet\n", "b.txtar": "meet\n"})
	var arrived sync.WaitGroup
	arrived.Add(2)
	met := make(chan struct{})
	go func() { arrived.Wait(); close(met) }()
	scripts, err := Discover([]string{dir}, nil)
	if err != nil {
		t.Fatal(err)
	}
	results := Run(context.Background(), scripts, Options{Jobs: 2, Prepare: func(context.Context, Script) (*Harness, error) {
		return &Harness{Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"meet": func(ts *testscript.TestScript, _ bool, _ []string) {
				arrived.Done()
				select {
				case <-met:
				case <-time.After(10 * time.Second):
					ts.Fatalf("the other script did not arrive")
				}
			},
		}}, nil
	}})
	for _, r := range results {
		if r.Status != Passed {
			t.Errorf("%s: %s\n%s", r.Name, r.Status, r.Log)
		}
	}
}

// The JUnit report parses back: one testcase per script, failures with
// the FAIL line as message and the log as text, skips with their reason.
func TestJUnit(t *testing.T) {
	now := time.Now()
	results := []Result{
		{Script: Script{Name: "tests/up.txtar"}, Status: Passed, Start: now, Duration: 1500 * time.Millisecond},
		{Script: Script{Name: "tests/kill.txtar"}, Status: Failed, Start: now, Duration: time.Second,
			Log: "> stdout ok\nFAIL: tests/kill.txtar:4: no match for `ok` found in stdout\n\x1b[31m\n"},
		{Script: Script{Name: "other/swarm.txtar"}, Status: Skipped, SkipReason: "needs swarm", Start: now},
	}
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, results, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	var rep junitReport
	if err := xml.Unmarshal(buf.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	if rep.Tests != 3 || rep.Failures != 1 || rep.Skipped != 1 || len(rep.Suites) != 2 {
		t.Fatalf("report %+v", rep)
	}
	kill := rep.Suites[0].Cases[1]
	if kill.Name != "kill" || kill.Classname != "tests" || kill.Failure == nil ||
		kill.Failure.Message != "tests/kill.txtar:4: no match for `ok` found in stdout" || !strings.Contains(kill.Failure.Text, "> stdout ok") {
		t.Errorf("failed case %+v %+v", kill, kill.Failure)
	}
	if strings.ContainsRune(buf.String(), 0x1b) {
		t.Error("an ESC reached the XML")
	}
	if sw := rep.Suites[1].Cases[0]; sw.Skipped == nil || sw.Skipped.Message != "needs swarm" {
		t.Errorf("skipped case %+v", sw)
	}
}

// A verbose log keeps every command of a passing script, but not the
// environment testscript lists at its top: the caller's may hold secrets.
func TestVerboseLogHidesTheEnvironment(t *testing.T) {
	dir := writeScripts(t, map[string]string{"pass.txtar": "# first phase\nexec echo hi\n"})
	t.Setenv("OPDEPLOY_TEST_SECRET", "hunter2")
	got := runDir(t, dir, Options{Verbose: true}, &fakeHarness{})
	log := got["pass.txtar"].Log
	if strings.Contains(log, "hunter2") || strings.Contains(log, "WORK=") {
		t.Errorf("the environment is in the log:\n%s", log)
	}
	if !strings.HasPrefix(log, "# first phase") || !strings.Contains(log, "> exec echo hi\n[stdout]\nhi\n") {
		t.Errorf("log:\n%s", log)
	}
}
