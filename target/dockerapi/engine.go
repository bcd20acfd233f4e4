package dockerapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/client"
)

// defaultSocket is where the Docker daemon listens when DOCKER_HOST is
// unset.
const defaultSocket = "unix:///var/run/docker.sock"

// Engine is a lazily connected Docker Engine API client, shared by every
// deployment of one process. Nothing connects until a verb needs Docker,
// so --help, version, validate and config never touch the daemon. The
// composition root (cmd) makes one and hands it to the targets.
type Engine struct {
	// CallTimeout bounds each API call (DefaultCallTimeout when zero).
	CallTimeout time.Duration
	// Endpoint is the engine's address ("unix:///…", "tcp://host:port");
	// empty means the environment's (DOCKER_HOST, else the local socket).
	Endpoint string
	// Connect makes the client; nil means the environment's (DOCKER_HOST
	// and friends, API version negotiated: ours speak 1.41). Tests supply
	// their own.
	Connect func(ctx context.Context) (API, error)

	once     sync.Once
	api      API
	err      error
	inflight inflight
}

// NewEngine returns an engine that connects as the environment says and
// bounds each call by callTimeout (DefaultCallTimeout when zero).
func NewEngine(callTimeout time.Duration) *Engine {
	return &Engine{CallTimeout: callTimeout}
}

// Client returns a connected client, pinging the daemon the first time so
// that an unreachable daemon is reported once, clearly. Every call through
// it is bounded (engineapi_bounded.go).
func (e *Engine) Client(ctx context.Context) (API, error) {
	e.once.Do(func() {
		connect := e.Connect
		if connect == nil {
			connect = connectFromEnv
			if e.Endpoint != "" {
				connect = connectTo(e.Endpoint)
			}
		}
		timeout := e.CallTimeout
		if timeout <= 0 {
			timeout = DefaultCallTimeout
		}
		// The first ping is bounded and recorded like every other call.
		token := e.inflight.add("connect to the engine (ping)")
		cctx, cancel := context.WithTimeout(ctx, timeout)
		api, err := connect(cctx)
		stalled := ctx.Err() == nil && errors.Is(cctx.Err(), context.DeadlineExceeded)
		cancel()
		e.inflight.remove(token, ctx.Err() != nil)
		var unreachable *UnreachableError
		if err != nil && stalled && errors.As(err, &unreachable) {
			unreachable.Stalled = timeout
		}
		if err != nil {
			e.err = err
			return
		}
		e.api = &boundedAPI{API: api, timeout: timeout, inflight: &e.inflight}
	})
	return e.api, e.err
}

// Bound is the bound on one call (CallTimeout, or DefaultCallTimeout).
func (e *Engine) Bound() time.Duration {
	if e.CallTimeout <= 0 {
		return DefaultCallTimeout
	}
	return e.CallTimeout
}

// InFlight describes the Engine API calls under way, oldest first, so that
// an interrupted verb can say what it was waiting for.
func (e *Engine) InFlight() []string { return e.inflight.list() }

// connectFromEnv connects as the docker CLI would and negotiates the API
// version with a ping, bounded by ctx.
func connectFromEnv(ctx context.Context) (API, error) {
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	if _, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		return nil, &UnreachableError{Endpoint: endpoint(), Err: err}
	}
	return cli, nil
}

// NewEngineAt returns an engine at an explicit endpoint, connected lazily
// like NewEngine's: a swarm manager, or one node's engine.
func NewEngineAt(endpoint string, callTimeout time.Duration) *Engine {
	return &Engine{CallTimeout: callTimeout, Endpoint: endpoint}
}

// connectTo connects to the engine at endpoint, negotiating the API
// version with a ping bounded by ctx.
func connectTo(endpoint string) func(ctx context.Context) (API, error) {
	return func(ctx context.Context) (API, error) {
		cli, err := client.New(client.WithHost(endpoint))
		if err != nil {
			return nil, fmt.Errorf("docker client for %s: %w", endpoint, err)
		}
		if _, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
			return nil, &UnreachableError{Endpoint: endpoint, Err: err}
		}
		return cli, nil
	}
}

// Where returns the engine's address as messages name it.
func (e *Engine) Where() string {
	if e.Endpoint != "" {
		return e.Endpoint
	}
	return endpoint()
}

// UnreachableError says the Docker daemon could not be reached.
type UnreachableError struct {
	Endpoint string
	Err      error
	// Stalled is set when the daemon took the connection but did not
	// answer the ping within this bound.
	Stalled time.Duration
}

func (e *UnreachableError) Error() string {
	if e.Stalled > 0 {
		return fmt.Sprintf("the Docker daemon at %s did not answer a ping within %s (each call is bounded; OPDEPLOY_API_TIMEOUT sets the bound)", e.Endpoint, e.Stalled)
	}
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

// APIBefore reports whether Engine API version v is older than want
// ("1.41" < "1.44"). An unknown version ("") is taken as new enough.
func APIBefore(v, want string) bool {
	if v == "" {
		return false
	}
	vMaj, vMin, _ := strings.Cut(v, ".")
	wMaj, wMin, _ := strings.Cut(want, ".")
	a, _ := strconv.Atoi(vMaj)
	b, _ := strconv.Atoi(wMaj)
	if a != b {
		return a < b
	}
	c, _ := strconv.Atoi(vMin)
	d, _ := strconv.Atoi(wMin)
	return c < d
}
