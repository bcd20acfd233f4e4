package local

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/opdeploy/opdeploy/target"
)

// fakeEngine serves just enough of the Engine API for the monitor: ping,
// container list and an event stream that the test feeds and can cut.
type fakeEngine struct {
	mu         sync.Mutex
	state      string // "running" or "exited"
	status     string
	events     chan string // JSON event lines for the current stream
	subscribed chan struct{}
	lists      int
}

func (f *fakeEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasSuffix(r.URL.Path, "/_ping"):
		w.Header().Set("Api-Version", "1.41")
		fmt.Fprint(w, "OK")
	case strings.HasSuffix(r.URL.Path, "/containers/json"):
		f.mu.Lock()
		f.lists++
		list := []map[string]any{{
			"Id": "c1", "Names": []string{"/p-db-1"}, "State": f.state, "Status": f.status,
			"Labels": map[string]string{labelProject: "p", labelService: "db", labelNumber: "1"},
		}}
		f.mu.Unlock()
		_ = json.NewEncoder(w).Encode(list)
	case strings.HasSuffix(r.URL.Path, "/events"):
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
		f.mu.Lock()
		events := f.events
		f.mu.Unlock()
		select {
		case f.subscribed <- struct{}{}:
		default: // nobody is counting any more
		}
		for line := range events {
			fmt.Fprintln(w, line)
			w.(http.Flusher).Flush()
		}
		// The channel closed: the stream ends, as when the daemon restarts.
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeEngine) newStream() chan string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = make(chan string, 10)
	return f.events
}

func TestMonitorResyncsAfterTheStreamDrops(t *testing.T) {
	f := &fakeEngine{state: "running", status: "Up 1 second (healthy)", subscribed: make(chan struct{}, 10)}
	stream := f.newStream()
	srv := httptest.NewServer(f)
	defer srv.Close()
	cli, err := client.New(client.WithHost("tcp://"+strings.TrimPrefix(srv.URL, "http://")), client.WithAPIVersion("1.41"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := startMonitor(ctx, cli, "p", nil)
	if err != nil {
		t.Fatal(err)
	}
	<-f.subscribed
	get := func() containerState {
		snap, _ := m.snapshot()
		if len(snap) != 1 {
			t.Fatalf("snapshot %+v", snap)
		}
		return snap[0]
	}
	if c := get(); c.State != target.StateRunning || c.Health != target.HealthHealthy || c.Starts != 0 {
		t.Fatalf("initial %+v", c)
	}

	// An event arrives: the container dies.
	stream <- `{"Type":"container","Action":"die","Actor":{"ID":"c1","Attributes":{"exitCode":"137","name":"p-db-1"}},"timeNano":1}`
	if err := m.waitFor(ctx, func(s []containerState) (bool, error) { return s[0].State == target.StateExited, nil }); err != nil {
		t.Fatal(err)
	}
	if c := get(); c.ExitCode != 137 {
		t.Fatalf("after die %+v", c)
	}

	// The stream drops; meanwhile the container starts again, and its start
	// event is lost. The monitor must subscribe again, re-list, and count
	// the start it missed.
	f.mu.Lock()
	f.state, f.status = "running", "Up 1 second (health: starting)"
	f.mu.Unlock()
	next := f.newStream()
	close(stream)
	<-f.subscribed
	err = m.waitFor(ctx, func(s []containerState) (bool, error) {
		return s[0].State == target.StateRunning && s[0].Starts == 1, nil
	})
	if err != nil {
		t.Fatalf("no resync after the stream dropped: %v (snapshot %+v)", err, get())
	}
	if c := get(); c.Health != target.HealthStarting {
		t.Errorf("after resync %+v", c)
	}

	// Events flow on the new stream.
	next <- `{"Type":"container","Action":"health_status: healthy","Actor":{"ID":"c1","Attributes":{"name":"p-db-1"}},"timeNano":2}`
	if err := m.waitFor(ctx, func(s []containerState) (bool, error) { return s[0].Health == target.HealthHealthy, nil }); err != nil {
		t.Fatal(err)
	}
	close(next)
}
