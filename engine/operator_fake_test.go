package engine

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opdeploy/opdeploy/starlark"
	"github.com/opdeploy/opdeploy/target"
)

// recordingTarget is a deployment of services api and db whose actions
// succeed and are recorded; its containers' ports are an HTTP server and a
// TCP listener of the test's own.
type recordingTarget struct {
	target.DeploymentTarget

	mu      sync.Mutex
	calls   []string
	exec    target.ExecResult
	http    *httptest.Server
	tcp     net.Listener
	status  []target.ServiceStatus
	healthy bool
}

func newRecordingTarget(t *testing.T) *recordingTarget {
	r := &recordingTarget{healthy: true}
	r.http = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		switch req.URL.Path {
		case "/health":
			if !r.isHealthy() {
				http.Error(w, "sick", http.StatusServiceUnavailable)
				return
			}
			fmt.Fprint(w, `{"ok": true}`)
		case "/echo":
			body := make([]byte, req.ContentLength)
			_, _ = req.Body.Read(body)
			fmt.Fprintf(w, "%s %s %s", req.Method, req.Header.Get("Content-Type"), body)
		default:
			http.NotFound(w, req)
		}
	}))
	t.Cleanup(r.http.Close)
	var err error
	if r.tcp, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.tcp.Close() })
	return r
}

var _ target.Operator = (*recordingTarget)(nil)

func (r *recordingTarget) isHealthy() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.healthy
}

func (r *recordingTarget) record(call string) {
	r.mu.Lock()
	r.calls = append(r.calls, call)
	r.mu.Unlock()
}

func (r *recordingTarget) recorded() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.calls, "; ")
}

func (r *recordingTarget) Kind() string    { return "fake" }
func (r *recordingTarget) Project() string { return "fake" }
func (r *recordingTarget) Describe() target.Description {
	return target.Description{Kind: "fake", Project: "fake", Services: []target.ServiceSpec{{Name: "api"}, {Name: "db"}}}
}
func (r *recordingTarget) Status(context.Context, target.StatusOptions) (*target.DeploymentStatus, error) {
	return &target.DeploymentStatus{Project: "fake", Services: r.status, AllHealthy: len(r.status) > 0}, nil
}
func (r *recordingTarget) Restart(_ context.Context, o target.RestartOptions) error {
	r.record(fmt.Sprintf("restart %s within %s", strings.Join(o.Services, ","), o.Timeout))
	return nil
}
func (r *recordingTarget) Containers(_ context.Context, svc string) ([]target.ServiceStatus, error) {
	var out []target.ServiceStatus
	for _, s := range r.status {
		if s.Service == svc {
			out = append(out, s)
		}
	}
	return out, nil
}
func (r *recordingTarget) Stop(_ context.Context, svc string, grace time.Duration) error {
	r.record(fmt.Sprintf("stop %s grace %s", svc, grace))
	return nil
}
func (r *recordingTarget) Start(_ context.Context, svc string) error {
	r.record("start " + svc)
	return nil
}
func (r *recordingTarget) Kill(_ context.Context, svc, sig string) error {
	r.record("kill " + svc + " " + sig)
	return nil
}
func (r *recordingTarget) Pause(_ context.Context, svc string) error {
	r.record("pause " + svc)
	return nil
}
func (r *recordingTarget) Unpause(_ context.Context, svc string) error {
	r.record("unpause " + svc)
	return nil
}
func (r *recordingTarget) Exec(_ context.Context, svc string, argv []string) (target.ExecResult, error) {
	r.record("exec " + svc + " " + strings.Join(argv, " "))
	return r.exec, nil
}
func (r *recordingTarget) Disconnect(_ context.Context, svc string) error {
	r.record("disconnect " + svc)
	return nil
}
func (r *recordingTarget) Connect(_ context.Context, svc string) error {
	r.record("connect " + svc)
	return nil
}
func (r *recordingTarget) WaitHealthy(_ context.Context, svcs []string, timeout time.Duration) error {
	r.record(fmt.Sprintf("wait_healthy %s within %s", strings.Join(svcs, ","), timeout))
	return nil
}
func (r *recordingTarget) Endpoint(_ context.Context, svc string, port int) (string, error) {
	switch port {
	case 80:
		return strings.TrimPrefix(r.http.URL, "http://"), nil
	case 5432:
		return r.tcp.Addr().String(), nil
	}
	return "", fmt.Errorf("service %q: port %d is not published", svc, port)
}
func (r *recordingTarget) LogTail(context.Context, string, int) []string { return nil }

type recordingResolver struct{ t *recordingTarget }

func (rr recordingResolver) Local(context.Context, target.LocalSpec) (target.DeploymentTarget, error) {
	return rr.t, nil
}

func (rr recordingResolver) Swarm(context.Context, target.SwarmSpec) (target.DeploymentTarget, error) {
	return rr.t, nil
}

func loadRecording(t *testing.T, src string) (*Subject, *recordingTarget) {
	t.Helper()
	rt := newRecordingTarget(t)
	s, err := Load(context.Background(), "/s/main.star", Options{
		FS:       starlark.MapFS{"/s/main.star": src},
		Resolver: recordingResolver{rt},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, rt
}

func sortedNames(rs []CheckResult) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	sort.Strings(out)
	return out
}
