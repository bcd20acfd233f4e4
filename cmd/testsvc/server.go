package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// shutdownGrace bounds the graceful HTTP shutdown, so that the process exits
// within 100 ms of SIGTERM even with requests in flight.
const shutdownGrace = 60 * time.Millisecond

// maxDataBody bounds the body of PUT /data.
const maxDataBody = 64 << 20

// health is the health state of the service. It is safe for concurrent use.
type health struct {
	mu           sync.Mutex
	now          func() time.Time
	start        time.Time
	healthyAfter time.Duration
	never        bool // --unhealthy
	failed       bool // POST /health/fail, cleared by POST /health/ok
}

func newHealth(now func() time.Time, healthyAfter time.Duration, never bool) *health {
	return &health{now: now, start: now(), healthyAfter: healthyAfter, never: never}
}

// check reports whether the service is healthy, and why not.
func (h *health) check() (ok bool, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.never:
		return false, "unhealthy: started with --unhealthy"
	case h.failed:
		return false, "unhealthy: failed by POST /health/fail"
	}
	if left := h.healthyAfter - h.now().Sub(h.start); left > 0 {
		return false, fmt.Sprintf("unhealthy: starting, healthy in %v", left)
	}
	return true, "ok"
}

func (h *health) setFailed(failed bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failed = failed
}

// exitRequest asks the serve loop to stop with an exit code.
type exitRequest struct {
	code   int
	reason string
}

// service is the HTTP service and its state.
type service struct {
	cfg      serveConfig
	name     string
	hostname string
	pid      int
	now      func() time.Time
	started  time.Time
	environ  []string
	health   *health
	stdout   io.Writer
	stderr   io.Writer
	exitReq  chan exitRequest

	udpMu       sync.Mutex
	udpReceived []string // datagrams received (--udp-listen), for GET /udp
}

func newService(cfg serveConfig, p *proc) *service {
	now := p.now
	if now == nil {
		now = time.Now
	}
	hostname, err := os.Hostname()
	if err != nil {
		hostname = "unknown"
	}
	name := cfg.name
	if name == "" {
		name = hostname
	}
	h := newHealth(now, cfg.healthyAfter, cfg.unhealthy)
	return &service{
		cfg:      cfg,
		name:     name,
		hostname: hostname,
		pid:      os.Getpid(),
		now:      now,
		started:  h.start,
		environ:  p.environ,
		health:   h,
		stdout:   p.stdout,
		stderr:   p.stderr,
		exitReq:  make(chan exitRequest, 1),
	}
}

// requestExit asks the serve loop to exit; the first request wins.
func (s *service) requestExit(code int, reason string) {
	select {
	case s.exitReq <- exitRequest{code: code, reason: reason}:
	default:
	}
}

// handler returns the HTTP routes of the service.
func (s *service) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.handleInfo)
	mux.HandleFunc("GET /health", s.handleHealth)
	mux.HandleFunc("POST /health/fail", s.handleHealthFail)
	mux.HandleFunc("POST /health/ok", s.handleHealthOK)
	mux.HandleFunc("POST /exit", s.handleExit)
	mux.HandleFunc("GET /data", s.handleDataGet)
	mux.HandleFunc("PUT /data", s.handleDataPut)
	mux.HandleFunc("GET /echo", s.handleEcho)
	mux.HandleFunc("GET /dial", s.handleDial)
	mux.HandleFunc("POST /udp", s.handleUDP)
	mux.HandleFunc("GET /udp", s.handleUDPReceived)
	return mux
}

func writeText(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body)
}

// info is the body of GET /.
type info struct {
	Name          string            `json:"name"`
	Hostname      string            `json:"hostname"`
	PID           int               `json:"pid"`
	StartedAt     string            `json:"started_at"`
	Uptime        string            `json:"uptime"`
	UptimeSeconds float64           `json:"uptime_seconds"`
	Healthy       bool              `json:"healthy"`
	Version       string            `json:"version"`
	Env           map[string]string `json:"env"`
}

func (s *service) handleInfo(w http.ResponseWriter, r *http.Request) {
	up := s.now().Sub(s.started)
	ok, _ := s.health.check()
	env := map[string]string{}
	for k, v := range envMap(s.environ) {
		if strings.HasPrefix(k, envPrefix) {
			env[k] = v
		}
	}
	body, err := json.MarshalIndent(info{
		Name:          s.name,
		Hostname:      s.hostname,
		PID:           s.pid,
		StartedAt:     s.started.UTC().Format(time.RFC3339Nano),
		Uptime:        up.Round(time.Millisecond).String(),
		UptimeSeconds: up.Seconds(),
		Healthy:       ok,
		Version:       versionString(),
		Env:           env,
	}, "", "  ")
	if err != nil {
		writeText(w, http.StatusInternalServerError, err.Error()+"\n")
		return
	}
	body = append(body, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}

func (s *service) handleHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if ok, reason := s.health.check(); !ok {
		writeText(w, http.StatusServiceUnavailable, reason)
		return
	}
	writeText(w, http.StatusOK, "ok")
}

func (s *service) handleHealthFail(w http.ResponseWriter, r *http.Request) {
	s.health.setFailed(true)
	fmt.Fprintln(s.stdout, "testsvc health: failing (POST /health/fail)")
	writeText(w, http.StatusOK, "health: failing\n")
}

func (s *service) handleHealthOK(w http.ResponseWriter, r *http.Request) {
	s.health.setFailed(false)
	fmt.Fprintln(s.stdout, "testsvc health: ok (POST /health/ok)")
	writeText(w, http.StatusOK, "health: ok\n")
}

func (s *service) handleExit(w http.ResponseWriter, r *http.Request) {
	code := 0
	if v := r.URL.Query().Get("code"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 255 {
			writeText(w, http.StatusBadRequest, fmt.Sprintf("bad exit code %q: want 0-255\n", v))
			return
		}
		code = n
	}
	w.Header().Set("Connection", "close")
	writeText(w, http.StatusOK, fmt.Sprintf("exiting code=%d\n", code))
	if f, ok := w.(http.Flusher); ok {
		f.Flush() // respond before the process goes away
	}
	s.requestExit(code, "POST /exit")
}

// dataPath returns the ?path= of a /data request, or reports it missing.
func dataPath(w http.ResponseWriter, r *http.Request) (string, bool) {
	p := r.URL.Query().Get("path")
	if p == "" {
		writeText(w, http.StatusBadRequest, "missing ?path=\n")
		return "", false
	}
	return filepath.Clean(p), true
}

func (s *service) handleDataGet(w http.ResponseWriter, r *http.Request) {
	p, ok := dataPath(w, r)
	if !ok {
		return
	}
	b, err := os.ReadFile(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		writeText(w, http.StatusNotFound, fmt.Sprintf("not found: %s\n", p))
		return
	case err != nil:
		writeText(w, http.StatusInternalServerError, err.Error()+"\n")
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

func (s *service) handleDataPut(w http.ResponseWriter, r *http.Request) {
	p, ok := dataPath(w, r)
	if !ok {
		return
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxDataBody))
	if err != nil {
		code := http.StatusBadRequest
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			code = http.StatusRequestEntityTooLarge
		}
		writeText(w, code, fmt.Sprintf("reading body: %v\n", err))
		return
	}
	if err := writeFileSync(p, b); err != nil {
		writeText(w, http.StatusInternalServerError, err.Error()+"\n")
		return
	}
	writeText(w, http.StatusOK, fmt.Sprintf("wrote %d bytes to %s\n", len(b), p))
}

func (s *service) handleEcho(w http.ResponseWriter, r *http.Request) {
	writeText(w, http.StatusOK, r.URL.RawQuery)
}

// writeFileSync writes b to path, creating parent directories, and syncs it
// to disk before returning.
func writeFileSync(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// appendStartLine appends "start <RFC3339Nano>" to path, creating parent
// directories.
func appendStartLine(path string, t time.Time) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(f, "start %s\n", t.UTC().Format(time.RFC3339Nano)); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// runServe implements "testsvc serve".
func runServe(p *proc, args []string) int {
	var sigs <-chan os.Signal
	if p.notify != nil {
		sigs = p.notify() // before anything else, so an early SIGTERM is not lost
	}
	cfg, err := parseServeConfig(args, envMap(p.environ), p.stderr)
	if err != nil {
		return usageExitCode(err)
	}
	s := newService(cfg, p)
	fmt.Fprintf(s.stdout, "testsvc starting name=%s pid=%d\n", s.name, s.pid)

	if cfg.dataFile != "" {
		if err := appendStartLine(cfg.dataFile, s.started); err != nil {
			fmt.Fprintf(s.stderr, "testsvc: --data-file: %v\n", err)
			return 1
		}
	}
	if cfg.crashLoop {
		fmt.Fprintln(s.stdout, "testsvc crash-loop: exiting with code 1")
		return 1
	}
	if cfg.exitAfter.set && cfg.exitAfter.d == 0 {
		fmt.Fprintf(s.stdout, "testsvc one-shot job done, exiting with code %d\n", cfg.exitCode)
		return cfg.exitCode
	}

	if cfg.udpListen != "" {
		if err := s.listenUDP(cfg.udpListen); err != nil {
			fmt.Fprintf(s.stderr, "testsvc: --udp-listen: %v\n", err)
			return 1
		}
	}
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		fmt.Fprintf(s.stderr, "testsvc: %v\n", err)
		return 1
	}
	fmt.Fprintf(s.stdout, "testsvc listening addr=%s\n", ln.Addr())
	if p.ready != nil {
		p.ready(ln.Addr())
	}
	return s.serve(ln, sigs)
}

// serve serves HTTP on ln until a signal, an exit request or the
// --exit-after timer stops it, and returns the exit code.
func (s *service) serve(ln net.Listener, sigs <-chan os.Signal) int {
	srv := &http.Server{
		Handler:           s.handler(),
		ReadHeaderTimeout: 10 * time.Second,
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	var exitTimer, tick, tock <-chan time.Time
	if s.cfg.exitAfter.set {
		t := time.NewTimer(s.cfg.exitAfter.d)
		defer t.Stop()
		exitTimer = t.C
	}
	if s.cfg.logEvery > 0 {
		t := time.NewTicker(s.cfg.logEvery)
		defer t.Stop()
		tick = t.C
	}
	if s.cfg.stderrEvery > 0 {
		t := time.NewTicker(s.cfg.stderrEvery)
		defer t.Stop()
		tock = t.C
	}

	var code, ticks, tocks int
loop:
	for {
		select {
		case sig := <-sigs:
			if sig == syscall.SIGTERM && s.cfg.ignoreSIGTERM {
				fmt.Fprintln(s.stdout, "testsvc ignoring SIGTERM (--ignore-sigterm)")
				continue
			}
			fmt.Fprintf(s.stdout, "testsvc stopping (%s)\n", signalName(sig))
			code = 0
			break loop
		case req := <-s.exitReq:
			fmt.Fprintf(s.stdout, "testsvc exiting with code %d (%s)\n", req.code, req.reason)
			code = req.code
			break loop
		case <-exitTimer:
			fmt.Fprintf(s.stdout, "testsvc exiting with code %d (--exit-after %v)\n", s.cfg.exitCode, s.cfg.exitAfter.d)
			code = s.cfg.exitCode
			break loop
		case err := <-serveErr:
			fmt.Fprintf(s.stderr, "testsvc: serve: %v\n", err)
			return 1
		case <-tick:
			ticks++
			fmt.Fprintf(s.stdout, "tick %d\n", ticks)
		case <-tock:
			tocks++
			fmt.Fprintf(s.stderr, "tock %d\n", tocks)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		_ = srv.Close() // requests still running: cut them off
	}
	return code
}

// signalName returns "SIGTERM" for syscall.SIGTERM and so on.
func signalName(sig os.Signal) string {
	switch sig {
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGINT:
		return "SIGINT"
	}
	return sig.String()
}
