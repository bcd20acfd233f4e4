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
