package dockerapi

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"
)

// stalledAPI answers no container list until its caller gives up.
type stalledAPI struct{ API }

func (stalledAPI) ContainerList(ctx context.Context, _ client.ContainerListOptions) (client.ContainerListResult, error) {
	<-ctx.Done()
	return client.ContainerListResult{}, errors.New(`Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.41/containers/json": context deadline exceeded`)
}

func TestACallThatStallsFailsAtItsBound(t *testing.T) {
	b := &boundedAPI{API: stalledAPI{}, timeout: 50 * time.Millisecond, inflight: &inflight{}}
	_, err := b.ContainerList(context.Background(), client.ContainerListOptions{})
	var stalled *StalledError
	if !errors.As(err, &stalled) || stalled.Call != "list containers" || stalled.After != 50*time.Millisecond {
		t.Fatalf("err = %v", err)
	}
	if got := b.inflight.list(); len(got) != 0 {
		t.Errorf("in flight after the call: %v", got)
	}
}

// A call the caller gives up on says which call and the caller's reason,
// not the client's raw HTTP error, and is listed as cut short.
func TestACallTheCallerCutsSaysWhy(t *testing.T) {
	b := &boundedAPI{API: stalledAPI{}, timeout: time.Minute, inflight: &inflight{}}
	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(20*time.Millisecond, func() { cancel(errors.New("interrupted by SIGINT")) })
	_, err := b.ContainerList(ctx, client.ContainerListOptions{})
	if err == nil || err.Error() != "list containers: interrupted by SIGINT" {
		t.Fatalf("err = %v", err)
	}
	if got := b.inflight.list(); len(got) != 1 || !strings.HasPrefix(got[0], "list containers (for ") {
		t.Errorf("in flight: %v", got)
	}
}

// A daemon that takes the connection but never answers the first ping is
// reported as such, within the bound.
func TestAPingThatStallsIsReported(t *testing.T) {
	e := &Engine{CallTimeout: 50 * time.Millisecond, Connect: func(ctx context.Context) (API, error) {
		<-ctx.Done()
		return nil, &UnreachableError{Endpoint: "unix:///x.sock", Err: ctx.Err()}
	}}
	_, err := e.Client(context.Background())
	if err == nil || !strings.Contains(err.Error(), "the Docker daemon at unix:///x.sock did not answer a ping within 50ms") {
		t.Fatalf("err = %v", err)
	}
}
