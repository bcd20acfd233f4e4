package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/opdeploy/opdeploy/target"
)

func TestParseFaultArgs(t *testing.T) {
	for _, c := range []struct {
		kind    target.FaultKind
		service string
		args    []string
		want    string // the spec's fields, or the error
	}{
		{target.FaultDelay, "a", []string{"300ms", "50ms", "b,c"}, "delay a 300ms ±50ms to b,c"},
		{target.FaultDelay, "a", []string{"delay=1s", "to=b"}, "delay a 1s to b"},
		{target.FaultLoss, "a", []string{"30%"}, "loss a 30%"},
		{target.FaultPartition, "a", []string{"b,c", "d"}, "partition  a | b,c | d"},
		{target.FaultBlock, "a", []string{"b"}, "block a to b"},
		{target.FaultFillDisk, "a", []string{"/data", "leave=64MiB"}, "fill_disk a /data leave 67108864"},
		{target.FaultLimit, "a", []string{"memory=512m", "cpus=0.5"}, "limit a cpus=0.5 memory=536870912"},
		{target.FaultDelay, "a", nil, "error: delay needs delay"},
		{target.FaultDelay, "a", []string{"soon"}, `error: delay: delay: time: invalid duration "soon"`},
		{target.FaultLoss, "a", []string{"30", "b", "extra"}, "error: loss takes at most 2 arguments after the service (percent, to)"},
		{target.FaultLimit, "a", []string{"disk=1"}, `error: limit has no argument "disk" (arguments: cpus, memory)`},
	} {
		spec, err := parseFaultArgs(c.kind, c.service, c.args)
		got := fmt.Sprintf("%s %s %s", spec.Kind, spec.Service, spec.Brief())
		if err != nil {
			got = "error: " + err.Error()
		}
		if strings.TrimSpace(got) != c.want {
			t.Errorf("%s %s %q: got %q, want %q", c.kind, c.service, c.args, got, c.want)
		}
	}
}
