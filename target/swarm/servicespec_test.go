package swarm

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden service specs in testdata/servicespec")

// TestServiceSpecGolden: each testdata/servicespec/NAME.yaml, loaded
// through compose-go as project "p", gives the service specs (and network
// create options) in NAME.json. Run with -update to rewrite them, then
// read the diff.
func TestServiceSpecGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/servicespec/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			yaml, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			p := loadProject(t, string(yaml))
			if _, err := validateProject(p); err != nil {
				t.Fatalf("validateProject: %v", err)
			}
			out := map[string]any{}
			for _, s := range p.Services {
				spec, err := convertService(p, s)
				if err != nil {
					t.Fatal(err)
				}
				out["service "+s.Name] = spec
			}
			for key, n := range p.Networks {
				if !n.External {
					out["network "+networkName(p, key)] = networkSpec(p, key, n)
				}
			}
			got, err := json.MarshalIndent(out, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := strings.TrimSuffix(file, ".yaml") + ".json"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestServiceSpecGolden -update)", err)
			}
			if string(got) != string(want) {
				t.Errorf("%s differs from %s:\n%s", file, golden, got)
			}
		})
	}
}
