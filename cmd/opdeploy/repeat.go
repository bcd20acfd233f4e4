package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"
)

// runResult is one run of a sequence under --repeat.
type runResult struct {
	duration time.Duration
	failure  string // first line of the failure; "" when it passed
}

// repeatJSON is the summary --repeat prints with --progress json
// (docs/cli.md).
type repeatJSON struct {
	Event    string        `json:"event"` // "summary"
	Sequence string        `json:"sequence"`
	Runs     int           `json:"runs"`
	Passed   int           `json:"passed"`
	Failed   int           `json:"failed"`
	Failures []repeatFault `json:"failures"`
	MedianMS int64         `json:"median_ms"`
	MaxMS    int64         `json:"max_ms"`
}

type repeatFault struct {
	Run   int    `json:"run"`
	Error string `json:"error"`
}

// printRepeatSummary says how the runs went: passes, failures with their
// first lines, and the durations' median and maximum.
func printRepeatSummary(w io.Writer, sequence string, asJSON bool, runs []runResult) {
	sum := repeatJSON{Event: "summary", Sequence: sequence, Runs: len(runs), Failures: []repeatFault{}}
	durations := make([]time.Duration, 0, len(runs))
	for i, r := range runs {
		durations = append(durations, r.duration)
		if r.failure == "" {
			sum.Passed++
		} else {
			sum.Failed++
			sum.Failures = append(sum.Failures, repeatFault{Run: i + 1, Error: r.failure})
		}
	}
	median, maxD := medianMax(durations)
	sum.MedianMS, sum.MaxMS = median.Milliseconds(), maxD.Milliseconds()
	if asJSON {
		b, _ := json.Marshal(sum)
		fmt.Fprintf(w, "%s\n", safeJSON(b))
		return
	}
	fmt.Fprintf(w, "sequence %s, %d runs: %d passed, %d failed; duration median %.2fs, max %.2fs\n",
		sequence, sum.Runs, sum.Passed, sum.Failed, median.Seconds(), maxD.Seconds())
	for _, f := range sum.Failures {
		fmt.Fprintf(w, "  run %d: %s\n", f.Run, safeText(f.Error))
	}
}

// medianMax returns the median (the mean of the middle two for an even
// count) and the maximum.
func medianMax(ds []time.Duration) (time.Duration, time.Duration) {
	if len(ds) == 0 {
		return 0, 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	n := len(s)
	if n%2 == 1 {
		return s[n/2], s[n-1]
	}
	return (s[n/2-1] + s[n/2]) / 2, s[n-1]
}
