package local

import (
	"fmt"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// parsePlatform reads a service's platform ("linux/amd64",
// "linux/arm64/v8", "linux/arm/v7"), with the architecture names people
// also write (x86_64, aarch64) normalized as the engine does. The OS is
// required: compose files always give it.
func parsePlatform(s string) (ocispec.Platform, error) {
	parts := strings.Split(strings.ToLower(s), "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return ocispec.Platform{}, fmt.Errorf("%q: want os/arch[/variant], such as linux/amd64", s)
	}
	p := ocispec.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	switch p.Architecture {
	case "x86_64", "x86-64":
		p.Architecture = "amd64"
	case "aarch64":
		p.Architecture = "arm64"
	case "armhf":
		p.Architecture, p.Variant = "arm", "v7"
	case "armel":
		p.Architecture, p.Variant = "arm", "v6"
	}
	if p.Architecture == "arm64" && p.Variant == "v8" {
		p.Variant = "" // the default variant of arm64
	}
	return p, nil
}

// platformMatches says whether an image built for os/arch/variant runs as
// the platform a service asks for. An image that names no variant matches
// any variant of its architecture.
func platformMatches(want ocispec.Platform, os, arch, variant string) bool {
	have, err := parsePlatform(os + "/" + arch)
	if err != nil {
		return false
	}
	if variant != "" && !(have.Architecture == "arm64" && variant == "v8") {
		have.Variant = variant
	}
	return have.OS == want.OS && have.Architecture == want.Architecture &&
		(want.Variant == "" || have.Variant == "" || have.Variant == want.Variant)
}

func platformString(p ocispec.Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}
