package starlark

import (
	"context"
	"regexp"
	"runtime"
	"testing"
)

func evalWithin(t *testing.T, limit ByteSize, src string) error {
	t.Helper()
	runtime.GC() // garbage of earlier tests counts until it is collected
	_, err := Eval(context.Background(), Config{
		File: root + "/main.star", FS: MapFS{root + "/main.star": src},
		Resolver: &fakeResolver{}, MaxMemory: limit, MaxSteps: 1 << 62,
	})
	return err
}

// wantMemoryError checks that evaluation stopped at a position, over the
// limit. The position is wherever the interpreter was when it noticed.
func wantMemoryError(t *testing.T, err error, limit string) {
	t.Helper()
	re := regexp.MustCompile(`^/subjects/main\.star:\d+:\d+: evaluation stopped: memory limit of ` + limit + ` exceeded: [\d.]+[KMG]iB in use$`)
	if err == nil || !re.MatchString(err.Error()) {
		t.Fatalf("err = %v, want it to match %s", err, re)
	}
}

// The subject: without a bound it grew to 24 GB and was killed.
func TestDoublingListStopsAtTheMemoryLimit(t *testing.T) {
	err := evalWithin(t, 64*MiB, `
l = [1]
for i in range(40):
    l = l + l
`)
	wantMemoryError(t, err, "64MiB")
}

// One big string, then a loop only the memory limit can end (the step
// limit is out of reach): the limit applies between steps, not only when
// a step allocates.
func TestBigStringRepeatStopsAtTheMemoryLimit(t *testing.T) {
	err := evalWithin(t, 64*MiB, `
s = "x" * 80000000
while True:
    pass
`)
	wantMemoryError(t, err, "64MiB")
}

// A subject that ends holding more than the limit (the last operation can
// allocate much after the last sample) is refused when evaluation ends,
// naming the file; garbage is collected before judging.
func TestMemoryIsCheckedWhenEvaluationEnds(t *testing.T) {
	runtime.GC()
	garbage := make([]byte, 100*MiB)
	garbage[0] = 1
	garbage = nil
	if err := checkMemoryAfter(root+"/main.star", 64*MiB); err != nil {
		t.Fatalf("garbage counted: %v", err)
	}
	held := make([]byte, 100*MiB)
	err := checkMemoryAfter(root+"/main.star", 64*MiB)
	runtime.KeepAlive(held)
	re := regexp.MustCompile(`^/subjects/main\.star: evaluation ended with [\d.]+MiB in use, over the memory limit of 64MiB$`)
	if err == nil || !re.MatchString(err.Error()) {
		t.Fatalf("err = %v, want it to match %s", err, re)
	}
	_ = garbage
}

func TestByteSize(t *testing.T) {
	for in, want := range map[string]ByteSize{
		"512MiB": 512 * MiB, "2GiB": 2 * GiB, "1.5gib": 3 * GiB / 2, "512m": 512 * MiB,
		"1g": GiB, "500MB": 500_000_000, "1048576": MiB, "64 KiB": 64 * KiB, "12b": 12,
	} {
		got, err := ParseByteSize(in)
		if err != nil || got != want {
			t.Errorf("ParseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "lots", "-1GiB", "1.5.2MiB", "GiB", "1e30TiB"} {
		if _, err := ParseByteSize(bad); err == nil {
			t.Errorf("ParseByteSize(%q) succeeded", bad)
		}
	}
	for b, want := range map[ByteSize]string{GiB: "1GiB", 3 * GiB / 2: "1.5GiB", 64 * MiB: "64MiB", 12: "12B", 1536: "1.5KiB"} {
		if got := b.String(); got != want {
			t.Errorf("%d.String() = %s, want %s", uint64(b), got, want)
		}
	}
}
