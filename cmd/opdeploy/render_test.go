package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/opdeploy/opdeploy/target"
)

// hostileEvent is a failure whose error quotes a container's output.
func hostileEvent(at time.Time) target.ProgressEvent {
	return target.ProgressEvent{
		Time: at, Resource: target.Container("p-web-1"), Service: "web", Action: target.ActionStartFailed, Done: true,
		Err: errors.New("boom: \x1b]0;pwned\x07\nnext \u009b2J"),
	}
}

func TestRendererPlainMakesControlsVisible(t *testing.T) {
	var b strings.Builder
	r := newRenderer(&b, "plain")
	r.Event(hostileEvent(r.start))
	want := "  0.00s container p-web-1                        start failed: boom: ^[]0;pwned^G\nnext \\u009b2J\n"
	if b.String() != want {
		t.Errorf("printed\n%q\nwant\n%q", b.String(), want)
	}
}

func TestRendererJSONEscapesControls(t *testing.T) {
	var b strings.Builder
	r := newRenderer(&b, "json")
	e := hostileEvent(r.start)
	r.Event(e)
	if strings.ContainsAny(b.String(), "\x1b\x07\u009b") {
		t.Errorf("raw control characters in %q", b.String())
	}
	var got jsonEvent
	if err := json.Unmarshal([]byte(b.String()), &got); err != nil || got.Error != e.Err.Error() {
		t.Errorf("error = %q (%v), want the exact text", got.Error, err)
	}
}

// TestRendererTTYKeepsItsOwnCodes checks that the live block shows a
// container's codes visibly, one line per resource, while opdeploy's own
// colours and cursor movements still work.
func TestRendererTTYKeepsItsOwnCodes(t *testing.T) {
	var b strings.Builder
	r := newRenderer(&b, "tty")
	r.color = true
	r.Event(hostileEvent(r.start))
	r.Event(target.ProgressEvent{Time: r.start, Action: target.ActionWarning, Detail: "odd \x1b[2J"})
	want := ansiRed + " ✘ container p-web-1  start failed   0.0s: boom: ^[]0;pwned^G^Jnext \\u009b2J" + ansiReset + "\n" +
		"\x1b[1A\x1b[J" + // the block is cleared to print the warning above it
		ansiYellow + "warning: odd ^[[2J" + ansiReset + "\n" +
		ansiRed + " ✘ container p-web-1  start failed   0.0s: boom: ^[]0;pwned^G^Jnext \\u009b2J" + ansiReset + "\n"
	if b.String() != want {
		t.Errorf("printed\n%q\nwant\n%q", b.String(), want)
	}
}
