package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/opdeploy/opdeploy/engine"
	"github.com/opdeploy/opdeploy/target"
)

func TestReportSequenceErrorMakesControlsVisible(t *testing.T) {
	se := &engine.SequenceError{
		Sequence: "sick", Err: errors.New("exec web: exit code 1: \x1b[31mred"),
		Step: "exec", StepArgs: "web", StepPos: target.Pos{File: "s.star", Line: 3, Col: 5}, Service: "web",
		LogTail: []string{"plain line", "\x1b]0;pwned\x07title\r", "\u009b2J"},
	}
	var b strings.Builder
	reportSequenceError(&b, se)
	want := `opdeploy: sequence "sick" failed in step exec web (s.star:3:5)
exec web: exit code 1: ^[[31mred
last log lines of web:
  plain line
  ^[]0;pwned^Gtitle
  \u009b2J
`
	if b.String() != want {
		t.Errorf("reported\n%q\nwant\n%q", b.String(), want)
	}
}

func TestStepPrinterMakesControlsVisible(t *testing.T) {
	start := time.Now()
	events := []engine.StepEvent{
		{Time: start, Kind: "log", Message: "out: \x1b[2Jcleared\nsecond line"},
		{Time: start, Kind: "end", Step: "exec", Args: "web", Err: errors.New("exit 1: \u009b1A")},
	}
	var plain strings.Builder
	p := newStepPrinter(&plain, "plain")
	p.start = start
	for _, e := range events {
		p.event(e)
	}
	want := "   0.00s   out: ^[[2Jcleared\nsecond line\n   0.00s ✘ exec web  0.00s: exit 1: \\u009b1A\n"
	if plain.String() != want {
		t.Errorf("plain steps\n%q\nwant\n%q", plain.String(), want)
	}

	var js strings.Builder
	p = newStepPrinter(&js, "json")
	for _, e := range events {
		p.event(e)
	}
	if strings.ContainsAny(js.String(), "\x1b\u009b") {
		t.Errorf("raw control characters in JSON steps: %q", js.String())
	}
	var first stepJSON
	if err := json.Unmarshal([]byte(strings.SplitN(js.String(), "\n", 2)[0]), &first); err != nil || first.Message != events[0].Message {
		t.Errorf("JSON message = %q (%v), want the exact text %q", first.Message, err, events[0].Message)
	}
}
