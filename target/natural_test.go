package target

import (
	"slices"
	"testing"
)

func TestSortNatural(t *testing.T) {
	got := []string{"etcd10", "etcd2", "pd1", "etcd1", "a", "etcd02", "tikv", "etcd"}
	SortNatural(got)
	want := []string{"a", "etcd", "etcd1", "etcd2", "etcd02", "etcd10", "pd1", "tikv"}
	if !slices.Equal(got, want) {
		t.Errorf("SortNatural = %v, want %v", got, want)
	}
}

func TestComputeAllHealthy(t *testing.T) {
	running := func(svc string, h Health) ServiceStatus {
		return ServiceStatus{Service: svc, State: StateRunning, Health: h}
	}
	cases := []struct {
		name     string
		expected map[string]int
		observed []ServiceStatus
		want     bool
	}{
		{"empty deployment is not healthy", nil, nil, false},
		{"all healthy", map[string]int{"a": 1, "b": 1}, []ServiceStatus{running("a", HealthHealthy), running("b", HealthNone)}, true},
		{"missing replica", map[string]int{"a": 2}, []ServiceStatus{running("a", HealthHealthy)}, false},
		{"starting", map[string]int{"a": 1}, []ServiceStatus{running("a", HealthStarting)}, false},
		{"exited", map[string]int{"a": 1}, []ServiceStatus{{Service: "a", State: StateExited, Health: HealthNone}}, false},
		{"missing service", map[string]int{"a": 1, "b": 1}, []ServiceStatus{running("a", HealthNone)}, false},
	}
	for _, c := range cases {
		if got := ComputeAllHealthy(c.expected, c.observed); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}
