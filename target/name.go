package target

import (
	"fmt"
	"regexp"
)

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// ValidateName applies docker compose's rule for project names to subject
// and project names, so every deployment opdeploy makes is one that
// `docker compose -p NAME` can address.
func ValidateName(kind, name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("invalid %s name %q: use lowercase letters, digits, '-' and '_', starting with a letter or digit", kind, name)
	}
	return nil
}
