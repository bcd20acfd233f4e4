package local

import "testing"

func TestIsAnonymousVolumeName(t *testing.T) {
	for name, want := range map[string]bool{
		"1a59771ce95754f46237959d0675106e2bce456f21e57afa27bf9efb76d5fee1": true,
		"1A59771CE95754F46237959D0675106E2BCE456F21E57AFA27BF9EFB76D5FEE1": false,
		"proj_data": false,
		"1a59771ce95754f46237959d0675106e2bce456f21e57afa27bf9efb76d5fee": false,
	} {
		if got := isAnonymousVolumeName(name); got != want {
			t.Errorf("%q: %v, want %v", name, got, want)
		}
	}
}
