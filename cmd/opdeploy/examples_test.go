package main

import (
	"context"
	"testing"

	"github.com/opdeploy/opdeploy/engine"
)

// The example subjects load through the real targets, as the CLI wires them.
func loadExample(t *testing.T, file string, opts engine.Options) (*engine.Subject, error) {
	t.Helper()
	tgts, err := newTargets()
	if err != nil {
		t.Fatal(err)
	}
	opts.Resolver = tgts
	return engine.Load(context.Background(), file, opts)
}

func TestLoadExampleSubjects(t *testing.T) {
	for _, c := range []struct {
		file     string
		services int
	}{
		{"../../examples/subjects/etcd.star", 3},
		{"../../examples/subjects/tikv.star", 8},
	} {
		s, err := loadExample(t, c.file, engine.Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if got := len(s.Target.Describe().Services); got != c.services {
			t.Errorf("%s: %d services, want %d", c.file, got, c.services)
		}
		if _, ok := s.Sequence("rolling-restart"); !ok {
			t.Errorf("%s: no rolling-restart sequence", c.file)
		}
		if _, ok := s.Sequence("nope"); ok {
			t.Errorf("%s: found a sequence that does not exist", c.file)
		}
	}
}

func TestLoadParamsAndProfiles(t *testing.T) {
	s, err := loadExample(t, "../../examples/subjects/tikv.star", engine.Options{
		Params:   map[string]string{"tikv": "5", "pd": "1"},
		Profiles: []string{"load"},
	})
	if err != nil {
		t.Fatal(err)
	}
	desc := s.Target.Describe()
	if _, ok := desc.Service("ycsb"); !ok {
		t.Error("ycsb is not active with --profile load")
	}
	if _, ok := desc.Service("tikv4"); !ok {
		t.Error("tikv4 missing with tikv=5")
	}
	if _, ok := desc.Service("pd1"); ok {
		t.Error("pd1 present with pd=1")
	}
}
