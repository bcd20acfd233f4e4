package local

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/compose-spec/compose-go/v2/types"
)

// configHash decides whether a container must be recreated. It covers
// everything that shapes the container and nothing that does not: how the
// image is obtained (build, pull_policy), how many replicas run, start
// ordering (depends_on) and profiles are cleared before hashing, so that
// changing them leaves running containers alone. s has its references to
// other services resolved (refs.go), so a container made when its
// namespace owner was another container no longer matches. files is what
// the service's secrets and configs hold beyond the service definition
// (filesDigest); a service without any hashes as it always did.
func configHash(s types.ServiceConfig, files string) (string, error) {
	s.Build = nil
	s.PullPolicy = ""
	s.Scale = nil
	s.DependsOn = nil
	s.Profiles = nil
	if s.Deploy != nil {
		d := *s.Deploy
		d.Replicas = nil
		s.Deploy = &d
	}
	b, err := json.Marshal(s)
	if err != nil {
		return "", err
	}
	if files != "" {
		b = append(append(b, 0), files...)
	}
	return sha256Hex(b), nil
}

// resourceHash is a network's or volume's config hash, docker compose's
// com.docker.compose.config-hash: its definition as compose-go marshals
// it (volumes with the engine's default driver spelled out, as compose
// does, so both tools agree on what they made).
func resourceHash(v any) (string, error) {
	if vol, ok := v.(types.VolumeConfig); ok && vol.Driver == "" {
		vol.Driver = "local"
		v = vol
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return sha256Hex(b), nil
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
