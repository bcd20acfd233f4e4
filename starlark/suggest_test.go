package starlark

import "testing"

func TestDidYouMean(t *testing.T) {
	names := []string{"rolling-restart", "kill-leader", "partition"}
	for name, want := range map[string]string{
		"kill-leadr":  " (did you mean kill-leader?)",
		"partitoin":   " (did you mean partition?)",
		"kill":        " (did you mean kill-leader?)",
		"restart":     "",
		"kill-leader": "",
		"":            "",
	} {
		if got := DidYouMean(name, names); got != want {
			t.Errorf("DidYouMean(%q) = %q, want %q", name, got, want)
		}
	}
}
