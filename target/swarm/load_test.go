package swarm

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/compose"
)

// loadProject loads compose YAML as project "p", through compose-go as
// Load does, so tests see what a real subject's services look like.
func loadProject(t *testing.T, yaml string) *types.Project {
	t.Helper()
	p, err := loadProjectErr(t, yaml)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func loadProjectErr(t *testing.T, yaml string) (*types.Project, error) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "compose.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return compose.Load(context.Background(), target.ComposeSpec{Project: "p", ComposeFiles: []string{path}, Dir: dir})
}
