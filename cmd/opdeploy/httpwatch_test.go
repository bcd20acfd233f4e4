package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
)

// httpwatch watches HTTP endpoints from the host while a script does
// something else, for claims like "a rolling restart keeps at least two
// of three replicas serving":
//
//	httpwatch start URL...   poll every URL every 50 ms, in the background
//	httpwatch stop           stop, and print "rounds N min M of K"
//
// min is the fewest URLs that answered 2xx in any one round. One watch
// per script; it ends with the script.
func httpWatchCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: httpwatch start URL... | httpwatch stop")
	}
	key := ts.Getenv("WORK")
	switch args[0] {
	case "start":
		if len(args) < 2 {
			ts.Fatalf("httpwatch start: no URL")
		}
		w := &httpWatch{urls: args[1:], min: len(args) - 1, stop: make(chan struct{}), done: make(chan struct{})}
		httpWatches.Store(key, w)
		go w.run()
		ts.Defer(w.halt)
	case "stop":
		v, ok := httpWatches.LoadAndDelete(key)
		if !ok {
			ts.Fatalf("httpwatch stop: no watch started")
		}
		w := v.(*httpWatch)
		w.halt()
		fmt.Fprintf(ts.Stdout(), "rounds %d min %d of %d\n", w.rounds, w.min, len(w.urls))
		if w.rounds > 0 && w.min < len(w.urls) {
			fmt.Fprintf(ts.Stdout(), "first short round: %s\n", w.firstShort)
		}
	default:
		ts.Fatalf("httpwatch: unknown subcommand %q", args[0])
	}
}

var httpWatches sync.Map // $WORK -> *httpWatch

type httpWatch struct {
	urls       []string
	stop, done chan struct{}
	once       sync.Once
	rounds     int
	min        int
	firstShort string
}

func (w *httpWatch) halt() {
	w.once.Do(func() { close(w.stop) })
	<-w.done
}

func (w *httpWatch) run() {
	defer close(w.done)
	hc := &http.Client{Timeout: 500 * time.Millisecond}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		up := 0
		var down []string
		for _, u := range w.urls {
			ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
			res, err := hc.Do(req)
			if err == nil && res.StatusCode/100 == 2 {
				up++
			} else {
				down = append(down, u)
			}
			if err == nil {
				res.Body.Close()
			}
			cancel()
		}
		w.rounds++
		if up < w.min {
			w.min = up
			if w.firstShort == "" {
				w.firstShort = time.Now().Format("15:04:05.000") + " down: " + strings.Join(down, " ")
			}
		}
		select {
		case <-w.stop:
			return
		case <-tick.C:
		}
	}
}
