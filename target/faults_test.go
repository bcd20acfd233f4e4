package target

import (
	"strings"
	"testing"
	"time"
)

func TestFaultSpecValidate(t *testing.T) {
	services := []string{"a", "b", "c"}
	for _, c := range []struct {
		spec FaultSpec
		want string // "" for valid
	}{
		{FaultSpec{Kind: FaultDelay, Service: "a", Delay: time.Second, Jitter: time.Millisecond, To: []string{"b"}}, ""},
		{FaultSpec{Kind: FaultDelay, Service: "x", Delay: time.Second}, `service "x" is not in the deployment (services: a, b, c)`},
		{FaultSpec{Kind: FaultDelay, Service: "a", Delay: time.Second, To: []string{"y"}}, `service "y"`},
		{FaultSpec{Kind: FaultDelay, Service: "a", Delay: -time.Second}, "must not be negative"},
		{FaultSpec{Kind: FaultDelay, Service: "a"}, "a delay of 0 changes nothing"},
		{FaultSpec{Kind: FaultLoss, Service: "a", Percent: 100}, ""},
		{FaultSpec{Kind: FaultLoss, Service: "a", Percent: 100.5}, "percent must be from 0 to 100"},
		{FaultSpec{Kind: FaultPartition, Groups: [][]string{{"a"}, {"b", "c"}}}, ""},
		{FaultSpec{Kind: FaultPartition, Groups: [][]string{{"a"}}}, "at least two groups"},
		{FaultSpec{Kind: FaultPartition, Groups: [][]string{{"a"}, {}}}, "group 2 is empty"},
		{FaultSpec{Kind: FaultPartition, Groups: [][]string{{"a", "b"}, {"b"}}}, `service "b" is in group 1 and group 2`},
		{FaultSpec{Kind: FaultBlock, Service: "a", To: []string{"b"}}, ""},
		{FaultSpec{Kind: FaultBlock, Service: "a", To: []string{"a"}}, "changes nothing"},
		{FaultSpec{Kind: FaultFillDisk, Service: "a", Path: "/data"}, ""},
		{FaultSpec{Kind: FaultFillDisk, Service: "a", Path: "data"}, "must be absolute"},
		{FaultSpec{Kind: FaultLimit, Service: "a", CPUs: 0.05}, ""},
		{FaultSpec{Kind: FaultLimit, Service: "a"}, "give cpus, memory or both"},
		{FaultSpec{Kind: FaultLimit, Service: "a", Memory: 1 << 20}, "at least 6MiB"},
		{FaultSpec{Kind: "flood", Service: "a"}, `unknown fault kind "flood"`},
	} {
		err := c.spec.Validate(services)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%+v: %v", c.spec, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%+v: got %v, want %q", c.spec, err, c.want)
		}
	}
}

func TestFaultSpecBrief(t *testing.T) {
	for spec, want := range map[*FaultSpec]string{
		{Kind: FaultDelay, Delay: 300 * time.Millisecond, Jitter: 50 * time.Millisecond, To: []string{"b", "c"}}: "300ms ±50ms to b,c",
		{Kind: FaultLoss, Percent: 30}:                                "30%",
		{Kind: FaultPartition, Groups: [][]string{{"a"}, {"b", "c"}}}: "a | b,c",
		{Kind: FaultBlock, Service: "a", To: []string{"b"}}:           "to b",
		{Kind: FaultFillDisk, Path: "/data", Leave: 1024}:             "/data leave 1024",
		{Kind: FaultLimit, CPUs: 0.05, Memory: 64 << 20}:              "cpus=0.05 memory=67108864",
	} {
		if got := spec.Brief(); got != want {
			t.Errorf("%+v: Brief() = %q, want %q", *spec, got, want)
		}
	}
}
