package starlark

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ByteSize is an amount of memory. It is written as docker and Kubernetes
// users write one: 512MiB, 2GiB, 1.5GiB, 512m (docker's binary units),
// 500MB (decimal) or a plain number of bytes.
type ByteSize uint64

const (
	KiB ByteSize = 1 << (10 * (iota + 1))
	MiB
	GiB
	TiB
)

// units are matched case-insensitively, longest first so "mib" is not read
// as "b" after a number "512mi".
var units = []struct {
	suffix string
	size   float64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40},
	{"b", 1},
}

// ParseByteSize reads a ByteSize.
func ParseByteSize(s string) (ByteSize, error) {
	text := strings.ToLower(strings.TrimSpace(s))
	scale := 1.0
	for _, u := range units {
		if num, ok := strings.CutSuffix(text, u.suffix); ok {
			text, scale = strings.TrimSpace(num), u.size
			break
		}
	}
	n, err := strconv.ParseFloat(text, 64)
	if err != nil || n < 0 || math.IsInf(n, 0) || math.IsNaN(n) {
		return 0, fmt.Errorf("%q is not an amount of memory (examples: 512MiB, 2GiB)", s)
	}
	bytes := n * scale
	if bytes >= math.MaxUint64 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return ByteSize(bytes), nil
}

// UnmarshalText lets a ByteSize be a command-line flag.
func (b *ByteSize) UnmarshalText(text []byte) error {
	v, err := ParseByteSize(string(text))
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// String writes b in the largest binary unit it fills, with one decimal
// when that decimal is not zero: 1GiB, 1.5GiB, 300MiB, 12B.
func (b ByteSize) String() string {
	for _, u := range []struct {
		size ByteSize
		name string
	}{{TiB, "TiB"}, {GiB, "GiB"}, {MiB, "MiB"}, {KiB, "KiB"}} {
		if b >= u.size {
			s := strconv.FormatFloat(float64(b)/float64(u.size), 'f', 1, 64)
			return strings.TrimSuffix(s, ".0") + u.name
		}
	}
	return strconv.FormatUint(uint64(b), 10) + "B"
}
