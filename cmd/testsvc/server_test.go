package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHealthHealthyAfter(t *testing.T) {
	clock := newFakeClock()
	s, _ := newTestService(t, serveConfig{healthyAfter: 5 * time.Second}, clock)
	h := s.handler()

	code, body := do(t, h, "GET", "/health", "")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "healthy in 5s") {
		t.Fatalf("at start: got %d %q, want 503 with the time left", code, body)
	}
	clock.advance(5*time.Second - time.Nanosecond)
	if code, body = do(t, h, "GET", "/health", ""); code != http.StatusServiceUnavailable {
		t.Fatalf("just before 5s: got %d %q, want 503", code, body)
	}
	clock.advance(time.Nanosecond)
	if code, body = do(t, h, "GET", "/health", ""); code != http.StatusOK || body != "ok" {
		t.Fatalf("at 5s: got %d %q, want 200 \"ok\"", code, body)
	}
	clock.advance(time.Hour)
	if code, _ = do(t, h, "GET", "/health", ""); code != http.StatusOK {
		t.Fatalf("later: got %d, want 200", code)
	}
}

func TestHealthDefaultIsHealthy(t *testing.T) {
	s, _ := newTestService(t, serveConfig{}, newFakeClock())
	if code, body := do(t, s.handler(), "GET", "/health", ""); code != http.StatusOK || body != "ok" {
		t.Fatalf("got %d %q, want 200 \"ok\"", code, body)
	}
	// HEAD is answered like GET, without a body.
	if code, _ := do(t, s.handler(), "HEAD", "/health", ""); code != http.StatusOK {
		t.Fatalf("HEAD: got %d, want 200", code)
	}
}

func TestHealthUnhealthyFlag(t *testing.T) {
	clock := newFakeClock()
	s, _ := newTestService(t, serveConfig{unhealthy: true}, clock)
	h := s.handler()
	for _, step := range []func(){
		func() {},
		func() { clock.advance(24 * time.Hour) },
		func() { do(t, h, "POST", "/health/ok", "") },
	} {
		step()
		if code, body := do(t, h, "GET", "/health", ""); code != http.StatusServiceUnavailable || !strings.Contains(body, "--unhealthy") {
			t.Fatalf("got %d %q, want 503 mentioning --unhealthy", code, body)
		}
	}
}

func TestHealthFailAndRecover(t *testing.T) {
	clock := newFakeClock()
	s, out := newTestService(t, serveConfig{}, clock)
	h := s.handler()

	if code, _ := do(t, h, "GET", "/health", ""); code != http.StatusOK {
		t.Fatalf("initially: got %d, want 200", code)
	}
	if code, _ := do(t, h, "POST", "/health/fail", ""); code != http.StatusOK {
		t.Fatalf("POST /health/fail: got %d, want 200", code)
	}
	if code, body := do(t, h, "GET", "/health", ""); code != http.StatusServiceUnavailable || !strings.Contains(body, "/health/fail") {
		t.Fatalf("after fail: got %d %q, want 503", code, body)
	}
	clock.advance(time.Hour) // failing is sticky
	if code, _ := do(t, h, "GET", "/health", ""); code != http.StatusServiceUnavailable {
		t.Fatalf("an hour after fail: got %d, want 503", code)
	}
	if code, _ := do(t, h, "POST", "/health/ok", ""); code != http.StatusOK {
		t.Fatalf("POST /health/ok: got %d, want 200", code)
	}
	if code, _ := do(t, h, "GET", "/health", ""); code != http.StatusOK {
		t.Fatalf("after ok: got %d, want 200", code)
	}
	if code, _ := do(t, h, "GET", "/health/fail", ""); code != http.StatusMethodNotAllowed {
		t.Fatalf("GET /health/fail: got %d, want 405", code)
	}
	if got := out.String(); !strings.Contains(got, "failing") || !strings.Contains(got, "health: ok") {
		t.Fatalf("transitions not logged: %q", got)
	}
}

func TestHealthOKDoesNotSkipHealthyAfter(t *testing.T) {
	clock := newFakeClock()
	s, _ := newTestService(t, serveConfig{healthyAfter: time.Minute}, clock)
	h := s.handler()
	do(t, h, "POST", "/health/ok", "")
	if code, _ := do(t, h, "GET", "/health", ""); code != http.StatusServiceUnavailable {
		t.Fatalf("got %d, want 503 until --healthy-after has passed", code)
	}
	do(t, h, "POST", "/health/fail", "")
	clock.advance(time.Minute)
	if code, _ := do(t, h, "GET", "/health", ""); code != http.StatusServiceUnavailable {
		t.Fatalf("got %d, want 503 while failed", code)
	}
	do(t, h, "POST", "/health/ok", "")
	if code, _ := do(t, h, "GET", "/health", ""); code != http.StatusOK {
		t.Fatalf("got %d, want 200", code)
	}
}

func TestDataEndpoints(t *testing.T) {
	s, _ := newTestService(t, serveConfig{}, newFakeClock())
	h := s.handler()
	dir := t.TempDir()
	p := filepath.Join(dir, "a", "b", "data.txt") // parents do not exist yet
	target := "/data?path=" + url.QueryEscape(p)

	if code, _ := do(t, h, "GET", target, ""); code != http.StatusNotFound {
		t.Fatalf("GET before PUT: got %d, want 404", code)
	}
	if code, body := do(t, h, "PUT", target, "hello\nworld\n"); code != http.StatusOK || !strings.Contains(body, "wrote 12 bytes") {
		t.Fatalf("PUT: got %d %q, want 200", code, body)
	}
	if b, err := os.ReadFile(p); err != nil || string(b) != "hello\nworld\n" {
		t.Fatalf("file on disk: %q, %v", b, err)
	}
	if code, body := do(t, h, "GET", target, ""); code != http.StatusOK || body != "hello\nworld\n" {
		t.Fatalf("GET: got %d %q", code, body)
	}
	// Overwriting truncates.
	do(t, h, "PUT", target, "x")
	if code, body := do(t, h, "GET", target, ""); code != http.StatusOK || body != "x" {
		t.Fatalf("GET after overwrite: got %d %q", code, body)
	}
	// An empty body makes an empty file.
	do(t, h, "PUT", target, "")
	if code, body := do(t, h, "GET", target, ""); code != http.StatusOK || body != "" {
		t.Fatalf("GET after empty PUT: got %d %q", code, body)
	}
	for _, tc := range []struct {
		method, target string
		want           int
	}{
		{"GET", "/data", http.StatusBadRequest},
		{"PUT", "/data", http.StatusBadRequest},
		{"GET", "/data?path=" + url.QueryEscape(dir), http.StatusInternalServerError}, // a directory
		{"DELETE", target, http.StatusMethodNotAllowed},
	} {
		if code, body := do(t, h, tc.method, tc.target, ""); code != tc.want {
			t.Errorf("%s %s: got %d %q, want %d", tc.method, tc.target, code, body, tc.want)
		}
	}
}

func TestInfo(t *testing.T) {
	clock := newFakeClock()
	start := clock.now()
	s, _ := newTestService(t, serveConfig{name: "web-1", healthyAfter: time.Second}, clock,
		"TESTSVC_NAME=web-1", "TESTSVC_COLOR=blue", "PATH=/bin", "HOME=/root")
	clock.advance(1500 * time.Millisecond)

	code, body := do(t, s.handler(), "GET", "/", "")
	if code != http.StatusOK {
		t.Fatalf("got %d %q", code, body)
	}
	var got info
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, body)
	}
	if got.Name != "web-1" || got.PID != os.Getpid() || got.Hostname == "" {
		t.Errorf("name/pid/hostname: %+v", got)
	}
	if got.StartedAt != start.Format(time.RFC3339Nano) || got.Uptime != "1.5s" || got.UptimeSeconds != 1.5 {
		t.Errorf("started_at/uptime: %+v", got)
	}
	if !got.Healthy {
		t.Errorf("healthy = false, want true after --healthy-after")
	}
	if len(got.Env) != 2 || got.Env["TESTSVC_NAME"] != "web-1" || got.Env["TESTSVC_COLOR"] != "blue" {
		t.Errorf("env = %v, want only the TESTSVC_ variables", got.Env)
	}
	if code, _ := do(t, s.handler(), "GET", "/nope", ""); code != http.StatusNotFound {
		t.Errorf("GET /nope: got %d, want 404", code)
	}
}

func TestInfoNameDefaultsToHostname(t *testing.T) {
	s, _ := newTestService(t, serveConfig{}, newFakeClock())
	host, _ := os.Hostname()
	if s.name == "" || (host != "" && s.name != host) {
		t.Fatalf("name = %q, want the hostname %q", s.name, host)
	}
}

func TestEcho(t *testing.T) {
	s, _ := newTestService(t, serveConfig{}, newFakeClock())
	if code, body := do(t, s.handler(), "GET", "/echo?a=1&b=two%20words", ""); code != http.StatusOK || body != "a=1&b=two%20words" {
		t.Fatalf("got %d %q", code, body)
	}
}

func TestExitEndpoint(t *testing.T) {
	s, _ := newTestService(t, serveConfig{}, newFakeClock())
	h := s.handler()

	for _, bad := range []string{"x", "-1", "256"} {
		if code, _ := do(t, h, "POST", "/exit?code="+bad, ""); code != http.StatusBadRequest {
			t.Errorf("code=%s: got %d, want 400", bad, code)
		}
	}
	select {
	case req := <-s.exitReq:
		t.Fatalf("bad requests asked to exit: %+v", req)
	default:
	}

	if code, body := do(t, h, "POST", "/exit?code=7", ""); code != http.StatusOK || body != "exiting code=7\n" {
		t.Fatalf("got %d %q", code, body)
	}
	select {
	case req := <-s.exitReq:
		if req.code != 7 {
			t.Fatalf("exit code %d, want 7", req.code)
		}
	default:
		t.Fatal("no exit requested")
	}

	do(t, h, "POST", "/exit", "")
	if req := <-s.exitReq; req.code != 0 {
		t.Fatalf("no ?code=: exit code %d, want 0", req.code)
	}
}
