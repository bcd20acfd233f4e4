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

// renderer prints progress events to w (stderr) as the user asked: plain
// lines, JSON lines, or on a terminal one line per resource redrawn in
// place (warnings print once, above). Details and errors may quote
// container output, so control characters in them are made visible
// (escaped, in JSON) before the renderer adds its own colours and cursor
// movements.
type renderer struct {
	mu    sync.Mutex
	w     io.Writer
	mode  string
	color bool
	start time.Time

	// tty mode
	order []string                        // resources, first seen first
	last  map[string]target.ProgressEvent // latest event per resource
	since map[string]time.Time            // when each resource's action began
	drawn int                             // lines of the live block on screen
	rows  int                             // terminal height

	activity *activity // unfinished actions, for an interruption's report
}

// tracking makes the renderer record unfinished actions in a.
func (r *renderer) tracking(a *activity) *renderer {
	r.activity = a
	return r
}

func newRenderer(w io.Writer, mode string) *renderer {
	if mode == "auto" {
		mode = "plain"
		if isTerminal(w) {
			mode = "tty"
		}
	}
	r := &renderer{w: w, mode: mode, color: useColor(w), start: time.Now(),
		last: map[string]target.ProgressEvent{}, since: map[string]time.Time{}, rows: terminalRows(w)}
	if mode != "tty" {
		r.color = false
	}
	return r
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
	res := e.Resource.String()
	if r.activity != nil && !e.Resource.IsZero() {
		if e.Done {
			r.activity.end(res)
		} else if e.Action != target.ActionWarning {
			r.activity.begin(res, strings.TrimSpace(res+" "+string(e.Action)+" "+e.Detail))
		}
	}
	switch r.mode {
	case "json":
		je := jsonEvent{Time: e.Time.UTC().Format(time.RFC3339Nano), Resource: res, Service: e.Service, Action: string(e.Action), Detail: e.Detail, Done: e.Done}
		if e.Err != nil {
			je.Error = relativize(e.Err.Error())
		}
		b, _ := json.Marshal(je)
		fmt.Fprintf(r.w, "%s\n", safeJSON(b))
	case "tty":
		r.tty(e)
	default:
		fmt.Fprintln(r.w, r.plainLine(e))
	}
}

func (r *renderer) plainLine(e target.ProgressEvent) string {
	line := fmt.Sprintf("%6.2fs %-40s %s", e.Time.Sub(r.start).Seconds(), e.Resource, e.Action)
	if e.Detail != "" {
		line += "  " + e.Detail
	}
	if e.Err != nil {
		line += ": " + relativize(e.Err.Error())
	}
	return safeText(line)
}

// tty redraws the live block: a line per resource with its latest action
// and how long that action has taken.
func (r *renderer) tty(e target.ProgressEvent) {
	res := e.Resource.String()
	if e.Action == target.ActionWarning || e.Resource.IsZero() || len(r.order) >= r.rows-1 {
		// Printed once above the block; so is everything once the block
		// would not fit on the screen.
		r.clearBlock()
		line := r.plainLine(e)
		if e.Action == target.ActionWarning {
			line = r.paint(ansiYellow, "warning: "+safeText(e.Detail))
		}
		fmt.Fprintln(r.w, line)
		r.drawBlock()
		return
	}
	if _, seen := r.last[res]; !seen {
		r.order = append(r.order, res)
	}
	if prev, ok := r.last[res]; !ok || prev.Done || prev.Action != e.Action {
		if !e.Done || !ok {
			r.since[res] = e.Time
		}
	}
	r.last[res] = e
	r.clearBlock()
	r.drawBlock()
}

func (r *renderer) clearBlock() {
	if r.drawn > 0 {
		fmt.Fprintf(r.w, "\x1b[%dA\x1b[J", r.drawn)
		r.drawn = 0
	}
}

func (r *renderer) drawBlock() {
	width := 0
	for _, res := range r.order {
		width = max(width, len(res))
	}
	for _, res := range r.order {
		e := r.last[res]
		mark, color := "…", ansiDim
		switch {
		case e.Err != nil:
			mark, color = "✘", ansiRed
		case e.Done:
			mark, color = "✔", ansiGreen
		}
		line := fmt.Sprintf(" %s %-*s  %-12s %5.1fs", mark, width, res, e.Action, e.Time.Sub(r.since[res]).Seconds())
		if e.Detail != "" {
			line += "  " + e.Detail
		}
		if e.Err != nil {
			line += ": " + relativize(e.Err.Error())
		}
		// One line on screen per resource, or the redraw would miscount.
		fmt.Fprintln(r.w, r.paint(color, safeLine(line)))
		r.drawn++
	}
}

func (r *renderer) paint(color, s string) string {
	if !r.color {
		return s
	}
	return color + s + ansiReset
}

// logPrinter prints log lines as "service-n | text", coloured by service
// on a terminal.
type logPrinter struct {
	mu         sync.Mutex
	w          io.Writer
	color      bool
	visible    bool // make control characters in the text visible
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
	if p.visible {
		b.WriteString(safeText(l.Text))
	} else {
		b.WriteString(l.Text)
	}
	fmt.Fprintln(p.w, b.String())
}
