package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/opdeploy/opdeploy/engine"
	"github.com/opdeploy/opdeploy/starlark"
)

// subjectRecordEnv names the file where a verb records the subject it
// reads. `opdeploy test` sets it for each script, so that its commands
// that act on "the script's subject" (http, wait-healthy, [target:KIND])
// evaluate exactly what the script's last opdeploy command did: the same
// file, --set, --profile, -p and limits, after kong has applied flags,
// environment variables and defaults. It is not for users.
const subjectRecordEnv = "OPDEPLOY_TEST_SUBJECT_RECORD"

// subjectRecord is what is recorded.
type subjectRecord struct {
	File      string            `json:"file"` // absolute
	Params    map[string]string `json:"params"`
	Profiles  []string          `json:"profiles"`
	Project   string            `json:"project"`
	Root      string            `json:"root"`
	MaxSteps  uint64            `json:"max_steps"`
	MaxMemory uint64            `json:"max_memory"` // bytes
}

// record writes the subject the verb is about to read where
// subjectRecordEnv says, replacing the file at once (a reader never sees
// half of it). Without the variable it does nothing.
func (a *subjectArgs) record(params map[string]string) error {
	path := os.Getenv(subjectRecordEnv)
	if path == "" {
		return nil
	}
	file, err := filepath.Abs(a.File)
	if err != nil {
		return err
	}
	root := a.Root
	if root != "" {
		if root, err = filepath.Abs(root); err != nil {
			return err
		}
	}
	data, err := json.Marshal(subjectRecord{
		File: file, Params: params, Profiles: a.Profile, Project: a.Project,
		Root: root, MaxSteps: a.MaxSteps, MaxMemory: uint64(a.MaxMemory),
	})
	if err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.%d", path, os.Getpid())
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("%s: %w", subjectRecordEnv, err)
	}
	return os.Rename(tmp, path)
}

// readSubjectRecord reads a record; ok is false when there is none yet.
func readSubjectRecord(path string) (rec subjectRecord, raw []byte, ok bool, err error) {
	raw, err = os.ReadFile(path)
	if os.IsNotExist(err) {
		return rec, nil, false, nil
	}
	if err != nil {
		return rec, nil, false, err
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		return rec, nil, false, fmt.Errorf("%s: %w", path, err)
	}
	return rec, raw, true, nil
}

// options are the engine options the recorded verb loaded the subject with.
func (r subjectRecord) options(tgts targets) engine.Options {
	return engine.Options{
		Root: r.Root, Params: r.Params, Profiles: r.Profiles, Project: r.Project,
		MaxSteps: r.MaxSteps, MaxMemory: starlark.ByteSize(r.MaxMemory), Resolver: tgts,
	}
}
