package main

import (
	"context"
	"fmt"

	"github.com/opdeploy/opdeploy/engine"
)

type validateCmd struct {
	subjectArgs
}

func (c *validateCmd) Run(ctx context.Context, out *output, s *engine.Subject) error {
	// A target may know what up would warn about: keys it ignores, files
	// the host lacks.
	if w, ok := s.Target.(interface{ Warnings() []string }); ok {
		for _, line := range w.Warnings() {
			fmt.Fprintf(out.stderr, "warning: %s\n", line)
		}
	}
	desc := s.Target.Describe()
	fmt.Fprintf(out.stdout, "%s: subject %q is valid: %s project %q, %s, %s, %s\n",
		relPath(s.File), s.Name, desc.Kind, desc.Project,
		plural(len(desc.Services), "service"), plural(len(s.Checks)+len(s.FuncChecks), "check"), plural(len(s.Sequences), "sequence"))
	return nil
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
