package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/opdeploy/opdeploy/target"
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

// TestLogPrinterMakesControlsVisibleOnATerminal prints a line with an
// escape sequence to a real terminal (a pty), a pipe, and a terminal with
// --raw: only the first may not see the raw bytes.
func TestLogPrinterMakesControlsVisibleOnATerminal(t *testing.T) {
	t.Setenv("NO_COLOR", "1") // so any ESC in the output came from the line
	const line = "hi \x1b]0;pwned\x07\x1b[2J there"
	for _, tc := range []struct {
		name     string
		terminal bool
		raw      bool
		want     string
	}{
		{"terminal", true, false, "web-1 | hi ^[]0;pwned^G^[[2J there\n"},
		{"pipe", false, false, "web-1 | " + line + "\n"},
		{"terminal with --raw", true, true, "web-1 | " + line + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, read := openPipe(t)
			if tc.terminal {
				w, read = openPTY(t)
			}
			p := newLogPrinter(w, tc.raw, true, false)
			p.Line(target.LogLine{Service: "web", Number: 1, Text: line})
			w.Close()
			if got := read(); got != tc.want {
				t.Errorf("printed %q, want %q", got, tc.want)
			}
		})
	}
}

// openPipe returns the writing end of a pipe and a function that reads
// everything written once it is closed.
func openPipe(t *testing.T) (*os.File, func() string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	return w, func() string {
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
}

// openPTY returns the terminal end of a new pseudo-terminal, set not to
// turn "\n" into "\r\n", and a function that reads everything written to
// it once it is closed.
func openPTY(t *testing.T) (*os.File, func() string) {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { ptmx.Close() })
	if err := unix.IoctlSetPointerInt(int(ptmx.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(ptmx.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tty.Close() })
	termios, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	termios.Oflag &^= unix.OPOST
	if err := unix.IoctlSetTermios(int(tty.Fd()), unix.TCSETS, termios); err != nil {
		t.Fatal(err)
	}
	return tty, func() string {
		// Once the terminal end is closed, reads return what was written,
		// then EIO.
		b, err := io.ReadAll(ptmx)
		if err != nil && !errors.Is(err, unix.EIO) {
			t.Fatal(err)
		}
		return string(b)
	}
}
