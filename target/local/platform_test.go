package local

import "testing"

func TestPlatforms(t *testing.T) {
	for _, c := range []struct {
		want, os, arch, variant string
		match                   bool
	}{
		{"linux/amd64", "linux", "amd64", "", true},
		{"linux/x86_64", "linux", "amd64", "", true},
		{"linux/arm64", "linux", "amd64", "", false},
		{"linux/aarch64", "linux", "arm64", "v8", true},
		{"linux/arm64/v8", "linux", "arm64", "", true},
		{"linux/arm/v7", "linux", "arm", "v6", false},
		{"linux/arm", "linux", "arm", "v7", true},
		{"windows/amd64", "linux", "amd64", "", false},
	} {
		p, err := parsePlatform(c.want)
		if err != nil {
			t.Fatalf("%s: %v", c.want, err)
		}
		if got := platformMatches(p, c.os, c.arch, c.variant); got != c.match {
			t.Errorf("%s on an image for %s/%s/%s: match %v, want %v", c.want, c.os, c.arch, c.variant, got, c.match)
		}
	}
	for _, bad := range []string{"amd64", "linux/", "/amd64", "linux/arm/v7/x"} {
		if _, err := parsePlatform(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestCheckImagesPlatform(t *testing.T) {
	arm := desiredService{Image: "img", ImageID: "sha:1"}
	arm.Config.Name, arm.Config.Platform = "app", "linux/arm64"
	obs := observedState{Images: map[string]observedImage{"img": {ID: "sha:1", OS: "linux", Architecture: "amd64"}}}
	err := checkImages([]desiredService{arm}, obs, nil)
	if err == nil || err.Error() != `service "app": image img is for linux/amd64, and the service's platform is linux/arm64` {
		t.Errorf("mismatch: %v", err)
	}
	// An image being pulled or built is checked once it is made.
	if err := checkImages([]desiredService{arm}, obs, map[string]bool{"img": true}); err != nil {
		t.Errorf("pending image: %v", err)
	}
}
