package main

import (
	"context"
	"fmt"

	"github.com/opdeploy/opdeploy/target/local/faulthelper"
)

// faultHelperCmd is what a fault's helper container runs: opdeploy itself,
// packed into the helper image, in the target's network namespace
// (docs/faults.md). It is not for people, so --help does not list it.
type faultHelperCmd struct {
	Spec string `arg:"" help:"The fault, as JSON (faulthelper.Spec)."`
	err  error
}

func (c *faultHelperCmd) Run(ctx context.Context, out *output) error {
	s, err := faulthelper.Decode(c.Spec)
	if err == nil {
		err = faulthelper.Run(ctx, s, out.stdout)
	}
	if err != nil {
		// Said here: after SIGTERM, run() reports only the interruption.
		fmt.Fprintf(out.stderr, "opdeploy fault-helper: %v\n", err)
		c.err = err
	}
	return err
}

// endsOnInterrupt: SIGTERM (the helper container stopped) is how a fault
// ends; the helper then removes it and exits 0, or non-zero when it could
// not.
func (c *faultHelperCmd) endsOnInterrupt() bool { return c.err == nil }
