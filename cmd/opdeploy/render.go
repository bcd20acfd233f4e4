package main

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/opdeploy/opdeploy/target"
)

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// useColor follows the NO_COLOR convention and only colours terminals.
func useColor(w io.Writer) bool {
	return os.Getenv("NO_COLOR") == "" && isTerminal(w)
}

const (
	ansiReset  = "\x1b[0m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiDim    = "\x1b[2m"
)

// progressFlag is shared by verbs that change the deployment.
type progressFlag struct {
	Progress string `enum:"auto,tty,plain,json" default:"auto" help:"Progress output: auto (tty on a terminal, else plain), tty, plain or json (one JSON object per line)."`
}

// renderer prints progress events to w (stderr) as the user asked.
type renderer struct {
	mu    sync.Mutex
	w     io.Writer
	mode  string
	color bool
	start time.Time
}

func newRenderer(w io.Writer, mode string) *renderer {
	if mode == "auto" {
		mode = "plain"
		if isTerminal(w) {
			mode = "tty"
		}
	}
	return &renderer{w: w, mode: mode, color: mode == "tty" && useColor(w), start: time.Now()}
}

// jsonEvent is the --progress json schema (docs/cli.md).
type jsonEvent struct {
	Time     string `json:"time"`
	Resource string `json:"resource,omitempty"`
	Service  string `json:"service,omitempty"`
	Action   string `json:"action"`
	Detail   string `json:"detail,omitempty"`
	Done     bool   `json:"done"`
	Error    string `json:"error,omitempty"`
}

func (r *renderer) Event(e target.ProgressEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mode == "json" {
		je := jsonEvent{Time: e.Time.UTC().Format(time.RFC3339Nano), Resource: e.Resource, Service: e.Service, Action: e.Action, Detail: e.Detail, Done: e.Done}
		if e.Err != nil {
			je.Error = relativize(e.Err.Error())
		}
		b, _ := json.Marshal(je)
		fmt.Fprintf(r.w, "%s\n", b)
		return
	}
	line := fmt.Sprintf("%6.2fs %-40s %s", e.Time.Sub(r.start).Seconds(), e.Resource, e.Action)
	if e.Detail != "" {
		line += "  " + e.Detail
	}
	if e.Err != nil {
		line += ": " + relativize(e.Err.Error())
	}
	if r.color {
		switch {
		case e.Err != nil:
			line = ansiRed + line + ansiReset
		case e.Action == "warning":
			line = ansiYellow + line + ansiReset
		case e.Done:
			line = ansiGreen + line + ansiReset
		default:
			line = ansiDim + line + ansiReset
		}
	}
	fmt.Fprintln(r.w, line)
}

// logPrinter prints log lines as "service-n | text", coloured by service
// on a terminal.
type logPrinter struct {
	mu         sync.Mutex
	w          io.Writer
	color      bool
	prefix     bool
	timestamps bool
	width      int
}

var logColors = []string{"\x1b[36m", "\x1b[33m", "\x1b[32m", "\x1b[35m", "\x1b[34m", "\x1b[91m", "\x1b[92m", "\x1b[96m"}

func (p *logPrinter) Line(l target.LogLine) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	if p.prefix {
		name := fmt.Sprintf("%s-%d", l.Service, l.Number)
		if len(name) > p.width {
			p.width = len(name)
		}
		pad := strings.Repeat(" ", p.width-len(name))
		if p.color {
			h := fnv.New32a()
			h.Write([]byte(l.Service))
			b.WriteString(logColors[h.Sum32()%uint32(len(logColors))] + name + pad + " |" + ansiReset + " ")
		} else {
			b.WriteString(name + pad + " | ")
		}
	}
	if p.timestamps && !l.Time.IsZero() {
		b.WriteString(l.Time.UTC().Format(time.RFC3339Nano) + " ")
	}
	b.WriteString(l.Text)
	fmt.Fprintln(p.w, b.String())
}
