package main

import (
	"errors"
	"strings"
	"testing"
)

func TestReportErrorMakesControlsVisible(t *testing.T) {
	// The shape of up's failure report, quoting a container's log.
	err := errors.New("service \"web\": exited with code 1:\n  service \"web\", container p-web-1: exited (exit code 1)\n    last log lines:\n      \x1b]0;pwned\x07\x1b[2J\u009b1A\x9b")
	var b strings.Builder
	reportError(&b, err)
	want := "opdeploy: service \"web\": exited with code 1:\n  service \"web\", container p-web-1: exited (exit code 1)\n    last log lines:\n      ^[]0;pwned^G^[[2J\\u009b1A\\x9b\n"
	if b.String() != want {
		t.Errorf("reported\n%q\nwant\n%q", b.String(), want)
	}
}
