package engine

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/opdeploy/opdeploy/target"
)

const checkedSubject = `
d = local_deployment(services = {"api": {"image": "x"}, "db": {"image": "x"}})
def ready(ctx):
    return ctx.http("api", 80, "/health").status == 200
subject(name = "s", target = d, checks = [
    http_check("api-health", service = "api", port = 80, path = "/health"),
    http_check("api-204", service = "api", port = 80, path = "/health", expect_status = 204),
    tcp_check("db-up", service = "db", port = 5432),
    tcp_check("db-other", service = "db", port = 6000),
    exec_check("db-ready", service = "db", command = ["pg_isready"]),
    check("api-ready", ready),
])
`

func TestRunChecks(t *testing.T) {
	s, rt := loadRecording(t, checkedSubject)
	rt.exec = target.ExecResult{ExitCode: 1, Stdout: "no response\n"}
	results, err := s.RunChecks(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]CheckResult{}
	for _, r := range results {
		got[r.Name] = r
	}
	for name, want := range map[string]struct {
		ok     bool
		detail string
	}{
		"api-health": {true, "GET http://127.0.0.1:"},
		"api-204":    {false, "status 200, want 204"},
		"db-up":      {true, "connected to 127.0.0.1:"},
		"db-other":   {false, "port 6000 is not published"},
		"db-ready":   {false, "exit code 1: no response"},
		"api-ready":  {true, "returned True"},
	} {
		r, ok := got[name]
		if !ok || r.OK != want.ok || !strings.Contains(r.Detail, want.detail) {
			t.Errorf("%s: %+v, want ok %v detail ~%q", name, r, want.ok, want.detail)
		}
	}
	if rec := rt.recorded(); rec != "exec db pg_isready" {
		t.Errorf("calls %q", rec)
	}
}

func TestRunChecksByName(t *testing.T) {
	s, _ := loadRecording(t, checkedSubject)
	results, err := s.RunChecks(context.Background(), []string{"db-up", "api-ready"})
	if err != nil || strings.Join(sortedNames(results), " ") != "api-ready db-up" {
		t.Fatalf("results %v, err %v", sortedNames(results), err)
	}
	_, err = s.RunChecks(context.Background(), []string{"db-upp"})
	if err == nil || !strings.Contains(err.Error(), `no check "db-upp" in subject "s" (did you mean db-up?)`) {
		t.Errorf("err = %v", err)
	}
}

// WaitChecks retries the failing checks until they pass, reporting them.
func TestWaitChecksUntilTheyPass(t *testing.T) {
	s, rt := loadRecording(t, `
subject(name = "s", target = local_deployment(services = {"api": {"image": "x"}}), checks = [
    http_check("api-health", service = "api", port = 80, path = "/health"),
])
`)
	rt.mu.Lock()
	rt.healthy = false
	rt.mu.Unlock()
	var reports [][]CheckResult
	err := s.WaitChecks(context.Background(), time.Millisecond, func(failing []CheckResult) {
		reports = append(reports, append([]CheckResult(nil), failing...))
		if len(reports) == 3 {
			rt.mu.Lock()
			rt.healthy = true
			rt.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) != 4 || len(reports[0]) != 1 || !strings.Contains(reports[0][0].Detail, "status 503") || len(reports[3]) != 0 {
		t.Errorf("reports %+v", reports)
	}
}

// A check written in Starlark ends at its timeout.
func TestStarlarkCheckEndsAtItsTimeout(t *testing.T) {
	s, _ := loadRecording(t, `
def slow(ctx):
    ctx.sleep("1h")
    return True
subject(name = "s", target = local_deployment(services = {"api": {"image": "x"}}), checks = [check("slow", slow, timeout = "100ms")])
`)
	results, err := s.RunChecks(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 || results[0].OK || !strings.Contains(results[0].Detail, "not done within 100ms") {
		t.Errorf("results %+v", results)
	}
}
