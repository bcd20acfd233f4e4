package local

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/opdeploy/opdeploy/target/dockerapi"
	"github.com/opdeploy/opdeploy/target/local/faulthelper"
)

// helperBound is how long a helper may take to put its fault in force or
// to remove it: a few iptables calls.
const helperBound = 30 * time.Second

// helperName is the name of a fault's record container for one target.
func helperName(project, id, targetName string) string {
	return fmt.Sprintf("%s-fault-%s-%s", project, id, strings.TrimPrefix(targetName, project+"-"))
}

// createRecord creates a fault's record container: a helper in the
// target's network namespace for a network fault, a holder of the target's
// volumes for a full disk (spec.Hold), else a container that is never
// started.
func createRecord(ctx context.Context, cli dockerapi.API, image, name string, labels map[string]string, targetID string, spec *faulthelper.Spec) (string, error) {
	cfg := &container.Config{Image: image, Labels: labels}
	host := &container.HostConfig{NetworkMode: "none"}
	switch {
	case spec != nil && spec.Hold:
		cfg.Cmd = []string{spec.Encode()}
		host.VolumesFrom = []string{targetID}
	case spec != nil:
		cfg.Cmd = []string{spec.Encode()}
		host = &container.HostConfig{
			NetworkMode: container.NetworkMode("container:" + targetID),
			CapAdd:      []string{"NET_ADMIN"},
			Tmpfs:       map[string]string{"/run": ""}, // iptables-legacy's lock file
		}
	}
	res, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{Name: name, Config: cfg, HostConfig: host})
	if err != nil {
		return "", fmt.Errorf("create fault record %s: %w", name, err)
	}
	return res.ID, nil
}

// runHelper starts a helper and waits until it prints want, or exits
// (then it says why, from its output).
func runHelper(ctx context.Context, cli dockerapi.API, id, name, want string) error {
	ctx, cancel := context.WithTimeoutCause(ctx, helperBound, fmt.Errorf("helper %s did not finish within %s", name, helperBound))
	defer cancel()
	if _, err := cli.ContainerStart(ctx, id, client.ContainerStartOptions{}); err != nil {
		return fmt.Errorf("start helper %s: %w", name, err)
	}
	return waitHelperLine(ctx, cli, id, name, want)
}

// waitHelperLine follows a helper's output until a line is want, or the
// helper exits.
func waitHelperLine(ctx context.Context, cli dockerapi.API, id, name, want string) error {
	logs, err := cli.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Follow: true})
	if err != nil {
		return fmt.Errorf("follow helper %s: %w", name, err)
	}
	defer logs.Close()
	pr, pw := io.Pipe()
	var stderr strings.Builder
	go func() { _, err := stdcopy.StdCopy(pw, &stderr, logs); pw.CloseWithError(err) }()
	found := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if sc.Text() == want {
				found <- true
				_, _ = io.Copy(io.Discard, pr)
				return
			}
		}
		found <- false
	}()
	select {
	case ok := <-found:
		if ok {
			return nil
		}
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	code := -1
	if res, err := cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{}); err == nil {
		code = res.Container.State.ExitCode
	}
	return fmt.Errorf("helper %s exited with code %d: %s", name, code, oneLine(stderr.String()))
}

// stopHelper stops a helper (SIGTERM: it removes its fault and exits) and
// reports whether it removed it.
func stopHelper(ctx context.Context, cli dockerapi.API, id, name string) error {
	ctx, cancel := context.WithTimeout(ctx, helperBound)
	defer cancel()
	grace := int(helperBound / time.Second)
	if _, err := cli.ContainerStop(ctx, id, client.ContainerStopOptions{Timeout: &grace}); err != nil && !isNotFound(err) {
		return fmt.Errorf("stop helper %s: %w", name, err)
	}
	res, err := cli.ContainerInspect(ctx, id, client.ContainerInspectOptions{})
	if err != nil {
		return err
	}
	if code := res.Container.State.ExitCode; code != 0 {
		return fmt.Errorf("helper %s exited with code %d: %s", name, code, strings.Join(tailLogs(ctx, cli, id, 3), "; "))
	}
	return nil
}
