package local

import "github.com/containerd/errdefs"

func isNotFound(err error) bool { return errdefs.IsNotFound(err) }
func isConflict(err error) bool { return errdefs.IsConflict(err) }
