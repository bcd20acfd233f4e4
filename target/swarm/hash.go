package swarm

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// labelImageID carries, in a task's container labels, the local ID of an
// image loaded into the nodes: a rebuilt image under the same tag changes
// the spec, so the service rolls.
const labelImageID = "dev.opdeploy.image-id"

// labelTaskHash is the hash of the task template opdeploy sent: when it
// changes, the service's tasks are replaced.
const labelTaskHash = "dev.opdeploy.task-hash"

// jsonHash hashes a value's JSON (map keys come out sorted).
func jsonHash(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
