package suite

import (
	"errors"
	"strings"
	"testing"
)

const statusDoc = `{
  "project": "etcd",
  "all_healthy": true,
  "services": [
    {"service": "etcd0", "state": "running", "ready": true, "ports": [{"host_port": 12379}]},
    {"service": "etcd1", "state": "running", "ready": true, "ports": []},
    {"service": "etcd2", "state": "exited", "ready": false, "ports": []}
  ],
  "odd key": "x"
}`

func TestAssertJSON(t *testing.T) {
	for _, c := range []struct {
		path, op, want string
		any            bool
		err            string // "" when the assertion holds
	}{
		{path: ".all_healthy", op: "==", want: "true"},
		{path: ".all_healthy", op: "!=", want: "false"},
		{path: ".project", op: "==", want: "etcd"},
		{path: ".project", op: "==", want: `"etcd"`},
		{path: ".project", op: "~", want: "^et"},
		{path: ".services | length", op: "==", want: "3"},
		{path: ".services|length", op: ">=", want: "2"},
		{path: ". | length", op: "==", want: "4"},
		{path: ".services[0].service", op: "==", want: "etcd0"},
		{path: ".services[-1].state", op: "==", want: "exited"},
		{path: ".services[0].ports[0].host_port", op: ">", want: "12378"},
		{path: ".services[].service", op: "~", want: "^etcd[0-9]$"},
		{path: `."odd key"`, op: "==", want: "x"},
		{path: ".faults | length", op: "==", want: "0"}, // absent: null, whose length is 0
		{path: ".faults", op: "==", want: "null"},
		{path: ".services[].ready", op: "==", want: "true", any: true},
		{path: ".services[0]", op: "~", want: `"service":"etcd0"`},

		{path: ".all_healthy", op: "==", want: "false", err: ".all_healthy is true, want == false"},
		{path: ".all_helthy", op: "==", want: "true", err: `.all_helthy is null, want == true (no key "all_helthy" in . (keys: all_healthy, odd key, project, services))`},
		{path: ".services[].ready", op: "==", want: "true", err: ".services[2].ready is false, want == true"},
		{path: ".services[].state", op: "==", want: "paused", err: ".services[0].state is \"running\", want == paused; 3 of 3 values fail"},
		{path: ".services[].state", op: "==", want: "paused", any: true, err: `no value of .services[].state is == paused: got "running", "running", "exited"`},
		{path: ".services[7].state", op: "==", want: "running", err: "(.services has 3 elements)"},
		{path: ".project.name", op: "==", want: "x", err: `. .project is a string, not an object`},
		{path: ".project", op: "<", want: "3", err: "not a string"},
		{path: ".all_healthy", op: "<", want: "3", err: "compares numbers or strings, not a boolean"},
		{path: ".services[0].ports", op: "=", want: "3", err: `unknown operator "="`},
		{path: "services", op: "==", want: "3", err: "must start with '.'"},
		{path: ".services[x]", op: "==", want: "3", err: "want an index"},
		{path: ".services | keys", op: "==", want: "3", err: "only length"},
		{path: ".services[1].ports[]", op: "==", want: "3", err: "yields no value"},
		{path: ".all_healthy | length", op: "==", want: "3", err: "a boolean, which has no length"},
	} {
		err := assertJSON(statusDoc, c.path, c.op, c.want, c.any)
		name := c.path + " " + c.op + " " + c.want
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case c.err != "" && err == nil:
			t.Errorf("%s: holds, want an error containing %q", name, c.err)
		case c.err != "" && !strings.Contains(err.Error(), strings.TrimPrefix(c.err, ". ")):
			t.Errorf("%s: error %q, want it to contain %q", name, err, c.err)
		}
	}
}

// assertJSON is checkJSON with a failed assertion as an error.
func assertJSON(text, path, op, want string, any bool) error {
	holds, why, err := checkJSON(text, path, op, want, any)
	if err == nil && !holds {
		err = errors.New(why)
	}
	return err
}

// JSON lines (run --progress json) count as an array of their values.
func TestAssertJSONLines(t *testing.T) {
	lines := `{"event":"start","step":"kill"}
{"event":"end","step":"kill","duration_ms":190}
{"event":"log","message":"leader is etcd0"}
`
	if err := assertJSON(lines, ". | length", "==", "3", false); err != nil {
		t.Error(err)
	}
	if err := assertJSON(lines, ".[].event", "==", "end", true); err != nil {
		t.Error(err)
	}
	if err := assertJSON(lines, ".[].error", "==", "null", false); err != nil {
		t.Error(err)
	}
	if err := assertJSON("", ".x", "==", "1", false); err == nil || !strings.Contains(err.Error(), "no output to read") {
		t.Errorf("empty output: %v", err)
	}
	if err := assertJSON("project etcd: all healthy\n", ".x", "==", "1", false); err == nil || !strings.Contains(err.Error(), `output is not JSON`) {
		t.Errorf("text output: %v", err)
	}
}
