package compose

import (
	"encoding/json"
	"sort"
)

// Support is what a target does with a compose key. Each target keeps a
// table with one KeyRule per key compose-spec defines (its support.go),
// tested complete against compose-go's schema and documented row by row.
type Support int

const (
	// Honoured: carried into what the target creates; values are checked
	// further by the target's validation.
	Honoured Support = iota
	// Ignored with a one-line warning: running without it is safe, or it
	// only matters to other compose commands.
	Ignored
	// Rejected: an error naming the key and the service, never silently
	// ignored.
	Rejected
)

// KeyRule is the policy for one key, and why when it is not honoured.
type KeyRule struct {
	Support Support
	Why     string
}

// SetKeys returns the JSON keys of v whose value differs from zero's:
// some fields are structs that marshal even when empty, so a key counts as
// set only when it differs from an empty value's.
func SetKeys(v, zero any) []string {
	var set, empty map[string]json.RawMessage
	b, _ := json.Marshal(v)
	zb, _ := json.Marshal(zero)
	_ = json.Unmarshal(b, &set)
	_ = json.Unmarshal(zb, &empty)
	var keys []string
	for k, raw := range set {
		if string(raw) != string(empty[k]) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}
