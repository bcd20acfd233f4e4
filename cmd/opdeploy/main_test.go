package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	// swarmTeardown removes the swarm lab, if a test brought it up, once
	// every test has run (swarm_test.go).
	testscript.Main(swarmTeardown{m}, map[string]func(){
		"opdeploy": func() { os.Exit(Main()) },
	})
}

// TestScripts runs the txtar suites in testdata/script against the real
// binary. Set UPDATE_GOLDEN=1 to rewrite the golden sections.
func TestScripts(t *testing.T) {
	examples, err := filepath.Abs("../../examples/subjects")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "../../testdata/script",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       os.Getenv("UPDATE_GOLDEN") != "",
		Cmds:                scriptCommands(),
		Setup: func(env *testscript.Env) error {
			env.Setenv("HOME", filepath.Join(env.WorkDir, ".home"))
			env.Setenv("NO_COLOR", "1")
			setupProject(env)
			// Each script gets the example subjects as files of its own, so
			// paths in output are relative and golden files portable.
			return copyTree(examples, filepath.Join(env.WorkDir, "examples"))
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "docker":
				return dockerCondition()
			case "etcd":
				// Debian's etcd-server and etcd-client, which scripts/setup
				// installs; in CI their absence is a failure.
				for _, bin := range []string{"/usr/bin/etcd", "/usr/bin/etcdctl"} {
					if _, err := os.Stat(bin); err != nil {
						if os.Getenv("CI") == "true" {
							return false, fmt.Errorf("etcd: %v (scripts/setup installs etcd-server and etcd-client)", err)
						}
						return false, nil
					}
				}
				return true, nil
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
	})
}

func copyTree(from, to string) error {
	return filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
}

// scriptCommands are the harness's own script commands.
func scriptCommands() map[string]func(ts *testscript.TestScript, neg bool, args []string) {
	cmds := map[string]func(ts *testscript.TestScript, neg bool, args []string){}
	for _, set := range []map[string]func(ts *testscript.TestScript, neg bool, args []string){dockerCommands, processCommands, testVerbCommands} {
		for name, fn := range set {
			cmds[name] = fn
		}
	}
	return cmds
}
