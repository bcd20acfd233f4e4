package suite

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// WriteResult prints a script's line — status, name, duration — and, when
// there is one, its log indented beneath: testscript's, which names the
// script, the line and what differed.
func WriteResult(w io.Writer, r Result) {
	line := fmt.Sprintf("%s  %s  %.2fs", r.Status, r.Name, r.Duration.Seconds())
	switch {
	case r.Status == Skipped && r.SkipReason != "":
		line += "  (" + r.SkipReason + ")"
	case r.Updated:
		line += "  (golden sections updated)"
	}
	fmt.Fprintln(w, line)
	for _, l := range strings.Split(strings.TrimRight(r.Log, "\n"), "\n") {
		if l != "" {
			fmt.Fprintln(w, "    "+l)
		}
	}
	for _, l := range strings.Split(strings.TrimSpace(r.Kept), "\n") {
		if l != "" {
			fmt.Fprintln(w, "    "+l)
		}
	}
}

// Counts are how many scripts ended each way.
type Counts struct{ Passed, Failed, Skipped int }

// Count counts the results.
func Count(results []Result) Counts {
	var c Counts
	for _, r := range results {
		switch r.Status {
		case Passed:
			c.Passed++
		case Failed:
			c.Failed++
		case Skipped:
			c.Skipped++
		}
	}
	return c
}

// Summary is the last line of a run: "3 passed, 1 failed, 1 skipped in 45.20s"
// (skips only when there were some).
func (c Counts) Summary(elapsed time.Duration) string {
	s := fmt.Sprintf("%d passed, %d failed", c.Passed, c.Failed)
	if c.Skipped > 0 {
		s += fmt.Sprintf(", %d skipped", c.Skipped)
	}
	return s + fmt.Sprintf(" in %.2fs", elapsed.Seconds())
}
