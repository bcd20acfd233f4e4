package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/client"
	"github.com/rogpeppe/go-internal/testscript"
)

// testImage is the test service packed into a FROM scratch image; the
// suites' compose files run it.
const testImage = "opdeploy-testsvc:test"

// labelFaultProject marks opdeploy's fault records and helpers
// (target/local/faults_records.go).
const labelFaultProject = "dev.opdeploy.fault.project"

// dockerState is shared by all scripts of one test binary.
var dockerState struct {
	once  sync.Once
	cli   *client.Client
	err   error // daemon unreachable
	build error // image could not be built
}

// docker returns a client to a reachable daemon with the test image built,
// or why not.
func docker() (*client.Client, error) {
	dockerState.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cli, err := client.New(client.FromEnv)
		if err == nil {
			_, err = cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
		}
		if err != nil {
			dockerState.err = err
			return
		}
		dockerState.cli = cli
		dockerState.build = buildTestImage(ctx, cli)
	})
	if dockerState.err != nil {
		return nil, dockerState.err
	}
	return dockerState.cli, dockerState.build
}

// buildTestImage compiles cmd/testsvc statically and packs it alone into a
// FROM scratch image through the Engine API.
func buildTestImage(ctx context.Context, cli *client.Client) error {
	dir, err := os.MkdirTemp("", "opdeploy-testsvc")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "testsvc")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, "../testsvc")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build testsvc: %v\n%s", err, out)
	}
	binary, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct {
		name string
		mode int64
		data []byte
	}{
		{"Dockerfile", 0o644, []byte("FROM scratch\nCOPY testsvc /testsvc\nENTRYPOINT [\"/testsvc\"]\n")},
		{"testsvc", 0o755, binary},
	} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: f.mode, Size: int64(len(f.data))}); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	res, err := cli.ImageBuild(ctx, &buf, client.ImageBuildOptions{Tags: []string{testImage}, Remove: true, Version: build.BuilderV1})
	if err != nil {
		return fmt.Errorf("build %s: %w", testImage, err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if bytes.Contains(out, []byte(`"errorDetail"`)) {
		return fmt.Errorf("build %s: %s", testImage, out)
	}
	return nil
}

// dockerCondition implements [docker]: a reachable daemon with the test
// image. In CI a missing daemon is a failure, not a skip.
func dockerCondition() (bool, error) {
	_, err := docker()
	if err == nil {
		return true, nil
	}
	if dockerState.err == nil || os.Getenv("CI") == "true" {
		return false, fmt.Errorf("docker: %v", err)
	}
	return false, nil
}

// setupProject gives each script a project name of its own in $PROJECT
// (Docker scripts pass it on with `env OPDEPLOY_PROJECT=$PROJECT`, which
// every verb honours) and removes whatever that project left behind when
// the script ends, pass or fail.
func setupProject(env *testscript.Env) {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	name := strings.ToLower(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(filepath.Base(env.WorkDir), "-"))
	project := "opdt-" + strings.Trim(name, "-") + "-" + hex.EncodeToString(b)
	env.Setenv("PROJECT", project)
	env.Setenv("TESTIMAGE", testImage)
	env.Defer(func() {
		if dockerState.cli != nil {
			cleanupProject(dockerState.cli, project)
			for _, nested := range nestedProjects(context.Background(), dockerState.cli, project) {
				cleanupProject(dockerState.cli, nested)
			}
		}
	})
}

func cleanupProject(cli *client.Client, project string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	f := client.Filters{}
	f.Add("label", "com.docker.compose.project="+project)
	// Containers a script made behind opdeploy's back carry their own label.
	made := client.Filters{}
	made.Add("label", labelTestProject+"="+project)
	faults := client.Filters{} // fault records and helpers
	faults.Add("label", labelFaultProject+"="+project)
	for _, filter := range []client.Filters{faults, f, made} {
		if res, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filter}); err == nil {
			for _, c := range res.Items {
				_, _ = cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
			}
		}
	}
	if res, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f}); err == nil {
		for _, n := range res.Items {
			_, _ = cli.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{})
		}
	}
	if res, err := cli.VolumeList(ctx, client.VolumeListOptions{Filters: f}); err == nil {
		for _, v := range res.Items {
			_, _ = cli.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{Force: true})
		}
	}
	// Images a script built: compose builds are named $PROJECT-<service>,
	// binary images are tagged opdeploy-test/$PROJECT:*.
	for _, ref := range []string{project + "-*", "opdeploy-test/" + project} {
		images := client.Filters{}
		images.Add("reference", ref)
		if res, err := cli.ImageList(ctx, client.ImageListOptions{Filters: images}); err == nil {
			for _, img := range res.Items {
				_, _ = cli.ImageRemove(ctx, img.ID, client.ImageRemoveOptions{Force: true, PruneChildren: true})
			}
		}
	}
}

// dockerCommands are script commands that look at the engine directly,
// never through opdeploy, so that suites check what opdeploy did.
var dockerCommands = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"engine":     engineCmd,
	"stallproxy": stallProxyCmd,
	"inspect":    inspectCmd,
	"catfile":    catFileCmd,
	"waitevent":  waitEventCmd,
	"httpwatch":  httpWatchCmd,
	// containers: prints "name state id" for each container of $PROJECT.
	"containers": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 0 {
			ts.Fatalf("usage: containers")
		}
		cli := mustDocker(ts)
		f := client.Filters{}
		f.Add("label", "com.docker.compose.project="+ts.Getenv("PROJECT"))
		res, err := cli.ContainerList(context.Background(), client.ContainerListOptions{All: true, Filters: f})
		ts.Check(err)
		var lines []string
		for _, c := range res.Items {
			lines = append(lines, fmt.Sprintf("%s %s %s", strings.TrimPrefix(c.Names[0], "/"), c.State, c.ID[:12]))
		}
		printLines(ts, lines)
	},
	// faultrecords: prints "name state" for each fault record or helper
	// container of $PROJECT.
	"faultrecords": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 0 {
			ts.Fatalf("usage: faultrecords")
		}
		f := client.Filters{}
		f.Add("label", labelFaultProject+"="+ts.Getenv("PROJECT"))
		res, err := mustDocker(ts).ContainerList(context.Background(), client.ContainerListOptions{All: true, Filters: f})
		ts.Check(err)
		var lines []string
		for _, c := range res.Items {
			lines = append(lines, fmt.Sprintf("%s %s", strings.TrimPrefix(c.Names[0], "/"), c.State))
		}
		printLines(ts, lines)
	},
	// limits CONTAINER: prints the container's CPU and memory limits.
	"limits": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: limits CONTAINER")
		}
		res, err := mustDocker(ts).ContainerInspect(context.Background(), args[0], client.ContainerInspectOptions{})
		ts.Check(err)
		h := res.Container.HostConfig
		fmt.Fprintf(ts.Stdout(), "nanocpus=%d memory=%d memoryswap=%d\n", h.NanoCPUs, h.Memory, h.MemorySwap)
	},
	// resources: prints the networks and volumes labelled with $PROJECT.
	"resources": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 0 {
			ts.Fatalf("usage: resources")
		}
		cli := mustDocker(ts)
		f := client.Filters{}
		f.Add("label", "com.docker.compose.project="+ts.Getenv("PROJECT"))
		nets, err := cli.NetworkList(context.Background(), client.NetworkListOptions{Filters: f})
		ts.Check(err)
		vols, err := cli.VolumeList(context.Background(), client.VolumeListOptions{Filters: f})
		ts.Check(err)
		var lines []string
		for _, n := range nets.Items {
			lines = append(lines, "network "+n.Name)
		}
		for _, v := range vols.Items {
			lines = append(lines, "volume "+v.Name)
		}
		printLines(ts, lines)
	},
	// labels CONTAINER: prints the container's com.docker.compose.* labels.
	"labels": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: labels CONTAINER")
		}
		res, err := mustDocker(ts).ContainerInspect(context.Background(), args[0], client.ContainerInspectOptions{})
		ts.Check(err)
		var keys []string
		for k := range res.Container.Config.Labels {
			if strings.HasPrefix(k, "com.docker.compose.") {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(ts.Stdout(), "%s=%s\n", k, res.Container.Config.Labels[k])
		}
	},
	// http METHOD CONTAINER PORT PATH [BODY]: calls the container's
	// published port on 127.0.0.1 and prints the response body.
	"http": func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) < 4 || len(args) > 5 {
			ts.Fatalf("usage: http METHOD CONTAINER PORT PATH [BODY]")
		}
		res, err := mustDocker(ts).ContainerInspect(context.Background(), args[1], client.ContainerInspectOptions{})
		ts.Check(err)
		var hostPort string
		for port, bindings := range res.Container.NetworkSettings.Ports {
			if fmt.Sprint(port.Num()) == args[2] && len(bindings) > 0 {
				hostPort = bindings[0].HostPort
			}
		}
		if hostPort == "" {
			ts.Fatalf("%s publishes no port %s", args[1], args[2])
		}
		var body io.Reader
		if len(args) == 5 {
			body = strings.NewReader(args[4])
		}
		req, err := http.NewRequest(args[0], "http://127.0.0.1:"+hostPort+args[3], body)
		ts.Check(err)
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		ts.Check(err)
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		fmt.Fprintf(ts.Stdout(), "%s", out)
		failed := resp.StatusCode >= 300
		if failed != neg {
			ts.Fatalf("%s %s: status %d", args[0], args[3], resp.StatusCode)
		}
	},
	// exitcode N PROG ARGS...: runs a program (like exec) and checks its exit code.
	"exitcode": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) < 2 {
			ts.Fatalf("usage: exitcode N PROG ARGS...")
		}
		err := ts.Exec(args[1], args[2:]...)
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			ts.Fatalf("%v", err)
		}
		if fmt.Sprint(code) != args[0] {
			ts.Fatalf("exit code %d, want %s", code, args[0])
		}
	},
	// jsonfield FILE PATH WANT: checks a field of a JSON file (dotted path,
	// numbers index lists) against WANT.
	"jsonfield": func(ts *testscript.TestScript, neg bool, args []string) {
		if len(args) != 3 {
			ts.Fatalf("usage: jsonfield FILE PATH WANT")
		}
		var v any
		ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[0])), &v))
		for _, key := range strings.Split(args[1], ".") {
			switch x := v.(type) {
			case map[string]any:
				v = x[key]
			case []any:
				var i int
				fmt.Sscan(key, &i)
				if i >= len(x) {
					ts.Fatalf("%s: index %d out of range", args[1], i)
				}
				v = x[i]
			}
		}
		got := fmt.Sprint(v)
		if (got == args[2]) == neg {
			ts.Fatalf("%s = %s, want %s%s", args[1], got, map[bool]string{true: "not "}[neg], args[2])
		}
	},
}

// printLines prints sorted lines, or "(none)": a command that prints
// nothing would leave the previous command's stdout in place for checks.
func printLines(ts *testscript.TestScript, lines []string) {
	if len(lines) == 0 {
		lines = []string{"(none)"}
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Fprintln(ts.Stdout(), l)
	}
}

func mustDocker(ts *testscript.TestScript) *client.Client {
	cli, err := docker()
	if err != nil {
		ts.Fatalf("docker: %v", err)
	}
	return cli
}
