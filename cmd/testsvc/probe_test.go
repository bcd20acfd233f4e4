package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// runProbeArgs runs "testsvc probe args..." and returns its exit code and
// output.
func runProbeArgs(t *testing.T, environ []string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut lockedBuffer
	code := run(&proc{args: append([]string{"probe"}, args...), environ: environ, stdout: &out, stderr: &errOut})
	return code, out.String(), errOut.String()
}

func assertOneLine(t *testing.T, what, s string) {
	t.Helper()
	if strings.Count(s, "\n") != 1 || !strings.HasSuffix(s, "\n") {
		t.Errorf("%s is not exactly one line: %q", what, s)
	}
}

func TestProbeSuccess(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	code, out, errOut := runProbeArgs(t, nil, "--url", srv.URL+"/health")
	if code != 0 || errOut != "" || !strings.Contains(out, "204") {
		t.Fatalf("got %d, stdout %q, stderr %q; want 0", code, out, errOut)
	}
}

func TestProbeFailureStatus(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "unhealthy: database\nsecond line", http.StatusServiceUnavailable)
	}))
	defer srv.Close()

	code, out, errOut := runProbeArgs(t, nil, "--url", srv.URL)
	if code != 1 || out != "" {
		t.Fatalf("got %d, stdout %q; want 1 and no stdout", code, out)
	}
	if !strings.Contains(errOut, "503") || !strings.Contains(errOut, "unhealthy: database") || strings.Contains(errOut, "second line") {
		t.Errorf("stderr %q, want the status and the first body line", errOut)
	}
	assertOneLine(t, "stderr", errOut)
}

func TestProbeUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now

	code, out, errOut := runProbeArgs(t, nil, "--url", "http://"+addr+"/health", "--timeout", "150ms")
	if code != 1 || out != "" || !strings.Contains(errOut, addr) {
		t.Fatalf("got %d, stdout %q, stderr %q; want 1 with a reason", code, out, errOut)
	}
	assertOneLine(t, "stderr", errOut)
}

func TestProbeTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release) // runs before srv.Close

	start := time.Now()
	code, _, errOut := runProbeArgs(t, nil, "--url", srv.URL, "--timeout", "30ms")
	if code != 1 || !strings.Contains(errOut, "deadline") {
		t.Fatalf("got %d, stderr %q; want 1 with a timeout", code, errOut)
	}
	if d := time.Since(start); d > 150*time.Millisecond {
		t.Errorf("probe took %v with --timeout 30ms", d)
	}
	assertOneLine(t, "stderr", errOut)
}

// TestProbeAgainstService drives the real handler through its health
// transitions and checks the probe follows.
func TestProbeAgainstService(t *testing.T) {
	clock := newFakeClock()
	s, _ := newTestService(t, serveConfig{healthyAfter: time.Second}, clock)
	srv := httptest.NewServer(s.handler())
	defer srv.Close()
	u := srv.URL + "/health"

	if code, _, errOut := runProbeArgs(t, nil, "--url", u); code != 1 || !strings.Contains(errOut, "starting") {
		t.Fatalf("starting: got %d %q, want 1", code, errOut)
	}
	clock.advance(time.Second)
	if code, _, errOut := runProbeArgs(t, nil, "--url", u); code != 0 {
		t.Fatalf("healthy: got %d %q, want 0", code, errOut)
	}
	if _, err := http.Post(srv.URL+"/health/fail", "", nil); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := runProbeArgs(t, nil, "--url", u); code != 1 {
		t.Fatalf("failed: got %d, want 1", code)
	}
}

// TestProbeDefaultURLFromListen checks that a bare "testsvc probe" targets
// the port of TESTSVC_LISTEN.
func TestProbeDefaultURLFromListen(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	code, out, errOut := runProbeArgs(t, []string{"TESTSVC_LISTEN=:" + port})
	if code != 0 || !strings.Contains(out, "http://127.0.0.1:"+port+"/health") {
		t.Fatalf("got %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestProbeBadArgs(t *testing.T) {
	for _, args := range [][]string{
		{"--nope"},
		{"--timeout", "soon"},
		{"--timeout", "0s"},
		{"extra"},
	} {
		if code, _, errOut := runProbeArgs(t, nil, args...); code != 2 || !strings.Contains(errOut, "usage:") {
			t.Errorf("probe %q: got %d, stderr %q; want 2 with usage", args, code, errOut)
		}
	}
}
