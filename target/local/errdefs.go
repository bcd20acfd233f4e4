package local

import (
	"fmt"

	"github.com/containerd/errdefs"
)

func isNotFound(err error) bool { return errdefs.IsNotFound(err) }
func isConflict(err error) bool { return errdefs.IsConflict(err) }

func errorf(format string, args ...any) error { return fmt.Errorf(format, args...) }
