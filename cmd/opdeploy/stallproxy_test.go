package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/rogpeppe/go-internal/testscript"
)

// stallProxyCmd implements
//
//	stallproxy 'METHOD PATH-REGEX'...
//
// It puts a proxy in front of the Docker engine, on a socket under $WORK,
// and points DOCKER_HOST at it for the rest of the script. Requests whose
// "METHOD /path" (API version prefix removed) matches one of the patterns
// are held and never answered, as by an engine that stopped answering one
// path; each one held is logged as "held METHOD /path" to $WORK/stalled.log,
// so a script can wait for it (interrupt -file, waitfile). Everything else
// is passed through, streams and hijacked connections included.
func stallProxyCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: stallproxy 'METHOD PATH-REGEX'...")
	}
	var patterns []*regexp.Regexp
	for _, a := range args {
		patterns = append(patterns, regexp.MustCompile("^(?:"+a+")$"))
	}
	upstream := strings.TrimPrefix(ts.Getenv("DOCKER_HOST"), "unix://")
	if upstream == "" {
		upstream = "/var/run/docker.sock"
	}
	// Unix socket paths are short; $WORK may be long.
	dir, err := os.MkdirTemp("", "opdeploy-stall")
	ts.Check(err)
	sock := filepath.Join(dir, "engine.sock")
	ln, err := net.Listen("unix", sock)
	ts.Check(err)
	logPath := ts.MkAbs("stalled.log")
	var logMu sync.Mutex
	held, release := context.WithCancel(context.Background())
	versionRE := regexp.MustCompile(`^/v[0-9.]+`)
	proxy := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(&url.URL{Scheme: "http", Host: "docker"})
		},
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, "unix", upstream)
			},
		},
		FlushInterval: -1, // events and logs stream
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		call := r.Method + " " + versionRE.ReplaceAllString(r.URL.Path, "")
		for _, p := range patterns {
			if p.MatchString(call) {
				logMu.Lock()
				f, err := os.OpenFile(logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
				if err == nil {
					fmt.Fprintf(f, "held %s\n", call)
					f.Close()
				}
				logMu.Unlock()
				select { // never answer: until the client gives up or the script ends
				case <-r.Context().Done():
				case <-held.Done():
				}
				return
			}
		}
		proxy.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(ln) }()
	ts.Defer(func() {
		release()
		_ = srv.Close()
		_ = os.RemoveAll(dir)
	})
	ts.Setenv("DOCKER_HOST", "unix://"+sock)
}
