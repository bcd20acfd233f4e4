package swarm

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/moby/moby/api/types/swarm"
)

// specHash is a stable hash of what opdeploy sends for a service: the
// sha256 of the spec's JSON (encoding/json writes map keys sorted, and
// convertService orders every list). The caller stores it as the
// service's labelConfigHash label and leaves a service whose label
// matches alone. The label itself is left out, so the hash is the same
// before and after it is set. It hashes what opdeploy sends, never what
// the engine returns: the engine adds defaults and may pin the image to a
// digest, and an update is decided by the file, not by the engine's echo.
func specHash(spec swarm.ServiceSpec) string {
	if _, ok := spec.Labels[labelConfigHash]; ok {
		labels := make(map[string]string, len(spec.Labels))
		for k, v := range spec.Labels {
			if k != labelConfigHash {
				labels[k] = v
			}
		}
		spec.Labels = labels
	}
	b, err := json.Marshal(spec)
	if err != nil {
		// A ServiceSpec holds only plain values; this cannot happen.
		panic("swarm: service spec does not marshal: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
