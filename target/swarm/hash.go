package swarm

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/moby/moby/api/types/swarm"
)

// labelImageID carries, in a task's container labels, the local ID of an
// image loaded into the nodes: a rebuilt image under the same tag changes
// the spec, so the service rolls.
const labelImageID = "dev.opdeploy.image-id"

// specHash is a stable hash of what opdeploy sends for a service (JSON
// encodes map keys sorted), without the hash label itself.
func specHash(spec swarm.ServiceSpec) string {
	labels := map[string]string{}
	for k, v := range spec.Labels {
		if k != labelConfigHash {
			labels[k] = v
		}
	}
	spec.Labels = labels
	b, _ := json.Marshal(spec)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
