package main

import (
	"strings"
	"testing"
	"time"
)

func TestMedianMax(t *testing.T) {
	ms := func(n ...int) []time.Duration {
		var out []time.Duration
		for _, x := range n {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	for _, c := range []struct {
		in          []time.Duration
		median, max time.Duration
	}{
		{nil, 0, 0},
		{ms(5), 5 * time.Millisecond, 5 * time.Millisecond},
		{ms(30, 10, 20), 20 * time.Millisecond, 30 * time.Millisecond},
		{ms(40, 10, 20, 30), 25 * time.Millisecond, 40 * time.Millisecond},
	} {
		m, x := medianMax(c.in)
		if m != c.median || x != c.max {
			t.Errorf("medianMax(%v) = %v, %v; want %v, %v", c.in, m, x, c.median, c.max)
		}
	}
}

func TestRepeatSummary(t *testing.T) {
	runs := []runResult{{duration: time.Second}, {duration: 3 * time.Second, failure: "s.star:3:5: boom"}, {duration: 2 * time.Second}}
	var text, js strings.Builder
	printRepeatSummary(&text, "flaky", false, runs)
	printRepeatSummary(&js, "flaky", true, runs)
	if want := "sequence flaky, 3 runs: 2 passed, 1 failed; duration median 2.00s, max 3.00s\n  run 2: s.star:3:5: boom\n"; text.String() != want {
		t.Errorf("text summary:\n%s\nwant:\n%s", text.String(), want)
	}
	if want := `{"event":"summary","sequence":"flaky","runs":3,"passed":2,"failed":1,"failures":[{"run":2,"error":"s.star:3:5: boom"}],"median_ms":2000,"max_ms":3000}` + "\n"; js.String() != want {
		t.Errorf("json summary:\n%s\nwant:\n%s", js.String(), want)
	}
}
