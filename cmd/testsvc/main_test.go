package main

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// running is a "testsvc serve" running in-process.
type running struct {
	addr   string
	sigs   chan os.Signal
	done   chan int
	stdout *lockedBuffer
	stderr *lockedBuffer
}

// startServe runs "testsvc serve --listen 127.0.0.1:0 args..." in the
// background and waits until it listens.
func startServe(t *testing.T, environ []string, args ...string) *running {
	t.Helper()
	r := &running{
		sigs:   make(chan os.Signal, 4),
		done:   make(chan int, 1),
		stdout: &lockedBuffer{},
		stderr: &lockedBuffer{},
	}
	ready := make(chan net.Addr, 1)
	go func() {
		r.done <- run(&proc{
			args:    append([]string{"serve", "--listen", "127.0.0.1:0"}, args...),
			environ: environ,
			stdout:  r.stdout,
			stderr:  r.stderr,
			notify:  func() <-chan os.Signal { return r.sigs },
			ready:   func(a net.Addr) { ready <- a },
		})
	}()
	select {
	case a := <-ready:
		r.addr = a.String()
	case code := <-r.done:
		t.Fatalf("exited with %d before listening; stderr %q", code, r.stderr.String())
	case <-time.After(2 * time.Second):
		t.Fatal("not listening after 2s")
	}
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			r.sigs <- syscall.SIGINT
			<-r.done
		}
	})
	return r
}

// wait returns the exit code, failing if it takes longer than max.
func (r *running) wait(t *testing.T, max time.Duration) int {
	t.Helper()
	select {
	case code := <-r.done:
		r.done <- code // for the cleanup
		return code
	case <-time.After(max):
		t.Fatalf("still running after %v; stdout %q", max, r.stdout.String())
		return -1
	}
}

func (r *running) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + r.addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// runCmd runs testsvc synchronously.
func runCmd(t *testing.T, environ []string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut lockedBuffer
	code := run(&proc{args: args, environ: environ, stdout: &out, stderr: &errOut})
	return code, out.String(), errOut.String()
}

func TestServeStopsPromptlyOnSIGTERM(t *testing.T) {
	r := startServe(t, []string{"TESTSVC_NAME=svc-a"})
	if code, body := r.get(t, "/health"); code != http.StatusOK || body != "ok" {
		t.Fatalf("GET /health: %d %q", code, body)
	}
	// Leave an idle keep-alive connection open: shutdown must not wait for it.
	start := time.Now()
	r.sigs <- syscall.SIGTERM
	if code := r.wait(t, 100*time.Millisecond); code != 0 {
		t.Fatalf("exit code %d, want 0", code)
	}
	t.Logf("stopped in %v", time.Since(start))
	out := r.stdout.String()
	if !strings.HasPrefix(out, "testsvc starting name=svc-a pid=") || !strings.Contains(out, "testsvc stopping (SIGTERM)") {
		t.Errorf("stdout %q", out)
	}
}

func TestServeIgnoreSIGTERM(t *testing.T) {
	r := startServe(t, nil, "--ignore-sigterm")
	r.sigs <- syscall.SIGTERM
	select {
	case code := <-r.done:
		t.Fatalf("exited with %d on SIGTERM despite --ignore-sigterm", code)
	case <-time.After(30 * time.Millisecond):
	}
	if code, _ := r.get(t, "/health"); code != http.StatusOK {
		t.Fatalf("not serving after an ignored SIGTERM: %d", code)
	}
	r.sigs <- syscall.SIGINT
	if code := r.wait(t, 100*time.Millisecond); code != 0 {
		t.Fatalf("exit code %d, want 0", code)
	}
	if out := r.stdout.String(); !strings.Contains(out, "ignoring SIGTERM") || !strings.Contains(out, "stopping (SIGINT)") {
		t.Errorf("stdout %q", out)
	}
}

func TestServeExitEndpoint(t *testing.T) {
	r := startServe(t, nil)
	resp, err := http.Post("http://"+r.addr+"/exit?code=3", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || string(b) != "exiting code=3\n" {
		t.Fatalf("response %d %q %v", resp.StatusCode, b, err)
	}
	if code := r.wait(t, 150*time.Millisecond); code != 3 {
		t.Fatalf("exit code %d, want 3", code)
	}
}

func TestServeExitAfter(t *testing.T) {
	r := startServe(t, []string{"TESTSVC_EXIT_AFTER=20ms", "TESTSVC_EXIT_CODE=4"})
	if code := r.wait(t, 150*time.Millisecond); code != 4 {
		t.Fatalf("exit code %d, want 4", code)
	}
	if out := r.stdout.String(); !strings.Contains(out, "exiting with code 4 (--exit-after 20ms)") {
		t.Errorf("stdout %q", out)
	}
}

func TestServeLogEvery(t *testing.T) {
	r := startServe(t, nil, "--log-every", "5ms", "--stderr-every", "5ms")
	deadline := time.Now().Add(150 * time.Millisecond)
	for !strings.Contains(r.stdout.String(), "\ntick 3\n") || !strings.Contains(r.stderr.String(), "tock 3\n") {
		if time.Now().After(deadline) {
			t.Fatalf("no 3 ticks/tocks: stdout %q, stderr %q", r.stdout.String(), r.stderr.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
	r.sigs <- syscall.SIGTERM
	r.wait(t, 100*time.Millisecond)
	if out := r.stdout.String(); !strings.Contains(out, "\ntick 1\ntick 2\n") {
		t.Errorf("ticks not numbered from 1: %q", out)
	}
	if strings.Contains(r.stdout.String(), "tock") || strings.Contains(r.stderr.String(), "tick") {
		t.Error("tick and tock on the wrong streams")
	}
}

func TestCrashLoop(t *testing.T) {
	code, out, _ := runCmd(t, nil, "--crash-loop", "--listen", "127.0.0.1:0")
	if code != 1 || !strings.HasPrefix(out, "testsvc starting name=") || !strings.Contains(out, "crash-loop") {
		t.Fatalf("got %d %q, want 1", code, out)
	}
}

func TestOneShot(t *testing.T) {
	code, out, _ := runCmd(t, []string{"TESTSVC_EXIT_AFTER=0s", "TESTSVC_NAME=job"})
	if code != 0 || !strings.HasPrefix(out, "testsvc starting name=job pid=") || !strings.Contains(out, "one-shot job done, exiting with code 0") {
		t.Fatalf("got %d %q, want 0", code, out)
	}
	if code, _, _ := runCmd(t, nil, "serve", "--exit-after", "0s", "--exit-code", "5"); code != 5 {
		t.Fatalf("got %d, want 5", code)
	}
}

func TestDataFileCountsStarts(t *testing.T) {
	p := filepath.Join(t.TempDir(), "vol", "starts")
	for i := 0; i < 3; i++ {
		if code, _, errOut := runCmd(t, []string{"TESTSVC_DATA_FILE=" + p}, "--crash-loop"); code != 1 {
			t.Fatalf("got %d %q", code, errOut)
		}
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3: %q", len(lines), b)
	}
	for _, l := range lines {
		ts, ok := strings.CutPrefix(l, "start ")
		if _, err := time.Parse(time.RFC3339Nano, ts); !ok || err != nil {
			t.Errorf("bad line %q", l)
		}
	}
}

func TestDataFileError(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// The parent "directory" is a file.
	if code, _, errOut := runCmd(t, nil, "--data-file", filepath.Join(f, "starts"), "--exit-after", "0s"); code != 1 || !strings.Contains(errOut, "--data-file") {
		t.Fatalf("got %d %q, want 1", code, errOut)
	}
}

func TestListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if code, _, errOut := runCmd(t, nil, "--listen", ln.Addr().String()); code != 1 || errOut == "" {
		t.Fatalf("got %d %q, want 1", code, errOut)
	}
}

func TestCommandLine(t *testing.T) {
	tests := []struct {
		args    []string
		code    int
		stdout  string // substring
		stderr  string // substring
		environ []string
	}{
		{args: []string{"version"}, code: 0, stdout: "testsvc "},
		{args: []string{"--version"}, code: 0, stdout: "testsvc "},
		{args: []string{"version", "x"}, code: 2, stderr: "unexpected"},
		{args: []string{"help"}, code: 0, stdout: "usage:"},
		{args: []string{"bogus"}, code: 2, stderr: `unknown subcommand "bogus"`},
		{args: []string{"--bogus"}, code: 2, stderr: "usage:"},
		{args: []string{"serve", "--bogus"}, code: 2, stderr: "usage:"},
		{args: []string{"serve", "extra"}, code: 2, stderr: "unexpected arguments"},
		{args: []string{"serve", "-h"}, code: 0, stderr: "TESTSVC_HEALTHY_AFTER"},
		{args: []string{"probe", "-h"}, code: 0, stderr: "TESTSVC_URL"},
		{args: []string{}, environ: []string{"TESTSVC_EXIT_CODE=oops"}, code: 2, stderr: "TESTSVC_EXIT_CODE"},
	}
	for _, tc := range tests {
		code, out, errOut := runCmd(t, tc.environ, tc.args...)
		if code != tc.code || !strings.Contains(out, tc.stdout) || !strings.Contains(errOut, tc.stderr) {
			t.Errorf("testsvc %q: got %d, stdout %q, stderr %q; want %d, %q, %q", tc.args, code, out, errOut, tc.code, tc.stdout, tc.stderr)
		}
	}
}
