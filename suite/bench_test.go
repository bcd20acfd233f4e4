package suite

import (
	"context"
	"os"
	"testing"
)

// BenchmarkScriptOverhead measures what the runner adds to a script that
// runs one program: its work folder, testscript's setup and log, the
// goroutines, the result. docs/performance.md has the figures.
//
//	go test -run '^$' -bench ScriptOverhead ./suite
func BenchmarkScriptOverhead(b *testing.B) {
	dir := b.TempDir()
	scripts := []Script{{Name: dir + "/trivial.txtar", File: dir + "/trivial.txtar"}}
	writeBenchScript(b, scripts[0].File, "exec true\n")
	opts := Options{Prepare: func(context.Context, Script) (*Harness, error) { return &Harness{}, nil }}
	for b.Loop() {
		if r := Run(context.Background(), scripts, opts); r[0].Status != Passed {
			b.Fatalf("%s\n%s", r[0].Status, r[0].Log)
		}
	}
}

func writeBenchScript(b *testing.B, path, text string) {
	b.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		b.Fatal(err)
	}
}
