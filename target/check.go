package target

import (
	"fmt"
	"time"
)

// Pos is a source position in a subject file. File is absolute; renderers
// make it relative to the working directory.
type Pos struct {
	File      string
	Line, Col int
}

func (p Pos) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// CheckKind says how a check probes a service.
type CheckKind string

const (
	CheckHTTP CheckKind = "http"
	CheckTCP  CheckKind = "tcp"
	CheckExec CheckKind = "exec"
)

// CheckSpec is a health check declared by a subject, run against one
// service of its target.
type CheckSpec struct {
	Name    string
	Kind    CheckKind
	Service string
	Port    int           // http, tcp
	Path    string        // http
	Expect  int           // http: expected status code
	Command []string      // exec
	Timeout time.Duration // per attempt
	Pos     Pos
}
