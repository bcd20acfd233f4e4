package local

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/moby/moby/client"
)

// defaultSocket is where the Docker daemon listens when DOCKER_HOST is
// unset.
const defaultSocket = "unix:///var/run/docker.sock"

// Engine is a lazily connected Docker Engine API client, shared by every
// deployment of one process. Nothing connects until a verb needs Docker,
// so --help, version, validate and config never touch the daemon.
type Engine struct {
	once sync.Once
	cli  *client.Client
	err  error
}

// DefaultEngine is the engine the CLI uses: DOCKER_HOST and friends from the
// environment, API version negotiated with the daemon (ours speak 1.41).
var DefaultEngine = &Engine{}

// Client returns a connected client, pinging the daemon the first time so
// that an unreachable daemon is reported once, clearly.
func (e *Engine) Client(ctx context.Context) (*client.Client, error) {
	e.once.Do(func() {
		e.cli, e.err = client.New(client.FromEnv) // negotiates the API version (ours speak 1.41)
		if e.err != nil {
			e.err = fmt.Errorf("docker client: %w", e.err)
			return
		}
		pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if _, err := e.cli.Ping(pingCtx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
			e.err = &UnreachableError{Endpoint: endpoint(), Err: err}
		}
	})
	return e.cli, e.err
}

// UnreachableError says the Docker daemon could not be reached.
type UnreachableError struct {
	Endpoint string
	Err      error
}

func (e *UnreachableError) Error() string {
	// The dial error says what failed without the HTTP request around it.
	reason := e.Err.Error()
	var opErr *net.OpError
	if errors.As(e.Err, &opErr) {
		reason = opErr.Error()
	}
	return fmt.Sprintf("cannot reach the Docker daemon at %s: %s (is it running? set DOCKER_HOST to use another)", e.Endpoint, reason)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

func endpoint() string {
	if h := os.Getenv("DOCKER_HOST"); h != "" {
		return h
	}
	return defaultSocket
}
