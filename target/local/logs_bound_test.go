package local

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/opdeploy/opdeploy/target"
	"github.com/opdeploy/opdeploy/target/dockerapi"
)

// halfAnsweringEngine sends a log's headers, then nothing more: the body
// stays open until the caller gives up.
type halfAnsweringEngine struct{ dockerapi.API }

func (halfAnsweringEngine) ClientVersion() string { return "1.41" }

func (halfAnsweringEngine) ContainerList(context.Context, client.ContainerListOptions) (client.ContainerListResult, error) {
	return client.ContainerListResult{Items: []container.Summary{{ID: "c1", Names: []string{"/p-web-1"}, State: "running", Status: "Up 1 minute",
		Labels: map[string]string{labelProject: "p", labelService: "web", labelNumber: "1"}}}}, nil
}

func (halfAnsweringEngine) ContainerLogs(ctx context.Context, _ string, _ client.ContainerLogsOptions) (client.ContainerLogsResult, error) {
	pr, pw := io.Pipe()
	context.AfterFunc(ctx, func() { pw.CloseWithError(ctx.Err()) }) // as the HTTP client does
	return pr, nil
}

// logs without -f is bounded like a call: an engine that stops sending a
// log mid-way cannot hold it forever.
func TestLogsWithoutFollowEndAtTheBound(t *testing.T) {
	eng := &dockerapi.Engine{CallTimeout: 100 * time.Millisecond, Connect: func(context.Context) (dockerapi.API, error) { return halfAnsweringEngine{}, nil }}
	d := &Deployment{project: &types.Project{Name: "p", Services: types.Services{"web": {Name: "web"}}}, engine: eng}
	done := make(chan error, 1)
	go func() {
		done <- d.Logs(context.Background(), target.LogsOptions{Sink: sinkFunc(func(target.LogLine) {}), Tail: -1})
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), `did not answer "logs of container p-web-1" within 100ms`) {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(time.Minute): // far past the bound: it did not hold
		t.Fatal("logs still running after a minute")
	}
}
