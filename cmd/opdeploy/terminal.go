package main

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// terminalRows is the height of the terminal w writes to, or 24 when it
// cannot be read.
func terminalRows(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil && ws.Row > 0 {
			return int(ws.Row)
		}
	}
	return 24
}
