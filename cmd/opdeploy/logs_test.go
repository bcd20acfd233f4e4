package main

import (
	"testing"
	"time"
)

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]string{
		"":                     "",
		"1764158400":           "1764158400",
		"1764158400.5":         "1764158400.5",
		"10m":                  "1795694400.000000000",
		"2026-11-26T12:10:00Z": "1795695000.000000000",
		"2026-11-26":           "1795651200.000000000",
	} {
		got, err := parseSince(in, now.Add(10*time.Minute))
		if in == "1764158400" || in == "1764158400.5" || in == "" {
			got, err = parseSince(in, now)
		}
		if err != nil || got != want {
			t.Errorf("parseSince(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"yesterday", "-5m"} {
		if _, err := parseSince(bad, now); err == nil {
			t.Errorf("parseSince(%q) succeeded", bad)
		}
	}
}
