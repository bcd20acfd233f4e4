package starlark

import (
	"testing"

	"go.starlark.net/starlark"
)

func TestFaultArgumentUnpackers(t *testing.T) {
	var p Percent
	for v, ok := range map[starlark.Value]bool{starlark.MakeInt(30): true, starlark.Float(0.5): true, starlark.MakeInt(100): true, starlark.MakeInt(101): false, starlark.Float(-1): false, starlark.String("30"): false} {
		if err := p.Unpack(v); (err == nil) != ok {
			t.Errorf("Percent(%v): %v", v, err)
		}
	}
	var s Size
	for v, want := range map[starlark.Value]uint64{starlark.String("64MiB"): 64 << 20, starlark.String("512m"): 512 << 20, starlark.MakeInt(4096): 4096, starlark.String("0"): 0} {
		if err := s.Unpack(v); err != nil || uint64(s) != want {
			t.Errorf("Size(%v) = %d, %v; want %d", v, s, err, want)
		}
	}
	for _, bad := range []starlark.Value{starlark.String("lots"), starlark.MakeInt(-1), starlark.Float(1)} {
		if err := s.Unpack(bad); err == nil {
			t.Errorf("Size(%v) accepted", bad)
		}
	}
	var n OptionalNames
	if err := n.Unpack(starlark.None); err != nil || n != nil {
		t.Errorf("OptionalNames(None) = %v, %v", n, err)
	}
	if err := n.Unpack(starlark.NewList([]starlark.Value{starlark.String("a"), starlark.String("b")})); err != nil || len(n) != 2 {
		t.Errorf("OptionalNames([a, b]) = %v, %v", n, err)
	}
	if err := n.Unpack(starlark.NewList(nil)); err == nil {
		t.Error("OptionalNames([]) accepted")
	}
}
