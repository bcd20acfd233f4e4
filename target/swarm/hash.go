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

// labelTaskHash is the hash of the task template opdeploy sent: when it
// changes, the service's tasks are replaced.
const labelTaskHash = "dev.opdeploy.task-hash"

// specHash is a stable hash of what opdeploy sends for a service, without
// the config-hash label itself.
func specHash(spec swarm.ServiceSpec) string {
	labels := map[string]string{}
	for k, v := range spec.Labels {
		if k != labelConfigHash {
			labels[k] = v
		}
	}
	spec.Labels = labels
	return jsonHash(spec)
}

// jsonHash hashes a value's JSON (map keys come out sorted).
func jsonHash(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
