// Command opdeploy-bench measures opdeploy's lifecycle verbs against
// docker compose (when installed) and against the raw Engine API floor, on
// projects of the test service, and prints a table. It is a measurement,
// not a test: nothing here asserts a time.
//
//	go run ./cmd/opdeploy-bench [-runs 5] [-services 50] [-only abcdefgh] [-swarm tcp://MANAGER:2375]
//
// It builds cmd/opdeploy and cmd/testsvc, packs testsvc into a FROM scratch
// image, and runs every scenario -runs times, reporting the median. All
// containers run on this machine's engine; nothing leaves loopback.
package main

import (
	"archive/tar"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"golang.org/x/sync/errgroup"
)

const image = "opdeploy-testsvc:bench"

// scenarioFilter holds the letters of the scenarios to run (-only).
var scenarioFilter string

func main() {
	runs := flag.Int("runs", 5, "runs per scenario (the median is reported)")
	services := flag.Int("services", 50, "services in the large project")
	keep := flag.Bool("keep", false, "keep the work folder")
	only := flag.String("only", "abcdefghstuv", "scenarios to run, by letter (s-v need -swarm)")
	flag.StringVar(&swarmEndpoint, "swarm", "", "a swarm manager's endpoint (tcp://…) for the swarm scenarios (s-v)")
	flag.Parse()
	scenarioFilter = *only
	if err := run(*runs, *services, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "opdeploy-bench:", err)
		os.Exit(1)
	}
}

type bench struct {
	ctx     context.Context
	cli     *client.Client
	dir     string
	opdep   string // opdeploy binary
	compose []string
	runs    int
	n       int
	rows    []row
}

type row struct {
	scenario, tool string
	samples        []time.Duration
	note           string
}

func run(runs, n int, keep bool) error {
	ctx := context.Background()
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return err
	}
	if _, err := cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		return fmt.Errorf("docker daemon: %w", err)
	}
	dir, err := os.MkdirTemp("", "opdeploy-bench")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(dir)
	}
	b := &bench{ctx: ctx, cli: cli, dir: dir, runs: runs, n: n}
	if err := b.prepare(); err != nil {
		return err
	}
	b.scenarios()
	b.faultScenarios()
	b.swarmScenarios()
	b.print(os.Stdout)
	return nil
}

func (b *bench) prepare() error {
	b.opdep = filepath.Join(b.dir, "opdeploy")
	for _, build := range [][]string{
		{"go", "build", "-o", b.opdep, "./cmd/opdeploy"},
		{"go", "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(b.dir, "testsvc"), "./cmd/testsvc"},
	} {
		cmd := exec.Command(build[0], build[1:]...)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %v\n%s", strings.Join(build, " "), err, out)
		}
	}
	if err := b.buildImage(); err != nil {
		return err
	}
	if err := b.prepareFaults(); err != nil {
		return err
	}
	if p, err := exec.LookPath("docker-compose"); err == nil {
		b.compose = []string{p}
	} else if err := exec.Command("docker", "compose", "version").Run(); err == nil {
		b.compose = []string{"docker", "compose"}
	}
	// The large project: n independent services; the cluster: 3 nodes
	// with healthchecks, healthy after their first probe.
	var large strings.Builder
	large.WriteString("services:\n")
	for i := 0; i < b.n; i++ {
		fmt.Fprintf(&large, "  s%d:\n    image: %s\n", i, image)
	}
	cluster := "services:\n"
	for i := 0; i < 3; i++ {
		cluster += fmt.Sprintf("  node%d:\n    image: %s\n    healthcheck:\n      test: [\"CMD\", \"/testsvc\", \"probe\"]\n      interval: 500ms\n", i, image)
	}
	files := map[string]string{
		"large/compose.yaml":   large.String(),
		"large/subject.star":   `subject(name = "benchlarge", target = local_deployment(compose = "compose.yaml"))` + "\n",
		"cluster/compose.yaml": cluster,
		"cluster/subject.star": `subject(name = "benchcluster", target = local_deployment(compose = "compose.yaml"))

def roll(ctx):
    for node in ["node0", "node1", "node2"]:
        ctx.restart(node)   # waits until the node is healthy again

sequence("roll", roll)
`,
	}
	for name, content := range files {
		path := filepath.Join(b.dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) buildImage() error {
	bin, err := os.ReadFile(filepath.Join(b.dir, "testsvc"))
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dockerfile := []byte("FROM scratch\nCOPY testsvc /testsvc\nENTRYPOINT [\"/testsvc\"]\n")
	_ = tw.WriteHeader(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: int64(len(dockerfile))})
	_, _ = tw.Write(dockerfile)
	_ = tw.WriteHeader(&tar.Header{Name: "testsvc", Mode: 0o755, Size: int64(len(bin))})
	_, _ = tw.Write(bin)
	_ = tw.Close()
	res, err := b.cli.ImageBuild(b.ctx, &buf, client.ImageBuildOptions{Tags: []string{image}, Remove: true, Version: build.BuilderV1})
	if err != nil {
		return err
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	if bytes.Contains(out, []byte("errorDetail")) {
		return fmt.Errorf("build: %s", out)
	}
	return nil
}

// measure runs setup (untimed), then the timed step, then teardown
// (untimed), runs times.
func (b *bench) measure(scenario, tool string, setup, step, teardown func() error) {
	if !strings.Contains(scenarioFilter, scenario[1:2]) {
		return
	}
	r := row{scenario: scenario, tool: tool}
	for i := 0; i < b.runs; i++ {
		if setup != nil {
			if err := setup(); err != nil {
				r.note = "setup: " + err.Error()
				break
			}
		}
		start := time.Now()
		err := step()
		d := time.Since(start)
		if teardown != nil {
			_ = teardown()
		}
		if err != nil {
			r.note = err.Error()
			break
		}
		r.samples = append(r.samples, d)
	}
	b.rows = append(b.rows, r)
	fmt.Fprintf(os.Stderr, "%-34s %-26s %s %s\n", scenario, tool, median(r.samples), r.note)
}

func (b *bench) opdeploy(sub string, args ...string) func() error {
	return func() error {
		cmd := exec.Command(b.opdep, args...)
		cmd.Dir = filepath.Join(b.dir, sub)
		cmd.Env = append(os.Environ(), "NO_COLOR=1")
		if out, err := cmd.CombinedOutput(); err != nil && !strings.HasPrefix(args[0], "status") {
			return fmt.Errorf("opdeploy %s: %v: %s", strings.Join(args, " "), err, lastLine(out))
		}
		return nil
	}
}

func (b *bench) composeCmd(sub, project string, args ...string) func() error {
	return func() error {
		full := append(append(append([]string{}, b.compose[1:]...), "-p", project), args...)
		cmd := exec.Command(b.compose[0], full...)
		cmd.Dir = filepath.Join(b.dir, sub)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("compose %s: %v: %s", strings.Join(args, " "), err, lastLine(out))
		}
		return nil
	}
}

func lastLine(out []byte) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

func (b *bench) scenarios() {
	large := fmt.Sprintf("(a) cold up, %d services", b.n)
	noop := fmt.Sprintf("(b) no-op up, %d services", b.n)
	status := fmt.Sprintf("(c) status, %d services", b.n)
	down := fmt.Sprintf("(d) down, %d services", b.n)
	cluster := "(e) cold up to healthy, 3 nodes"

	opUp := b.opdeploy("large", "up", "subject.star")
	opDown := b.opdeploy("large", "down", "subject.star")
	b.measure(large, "opdeploy up", nil, opUp, opDown)
	_ = opUp()
	b.measure(noop, "opdeploy up", nil, opUp, nil)
	b.measure(status, "opdeploy status", nil, b.opdeploy("large", "status", "subject.star"), nil)
	_ = opDown()
	b.measure(down, "opdeploy down", opUp, opDown, nil)

	if b.compose != nil {
		name := filepath.Base(b.compose[0])
		if len(b.compose) > 1 {
			name += " " + strings.Join(b.compose[1:], " ")
		}
		cUp := b.composeCmd("large", "benchlargec", "up", "-d")
		cDown := b.composeCmd("large", "benchlargec", "down")
		b.measure(large, name+" up -d", nil, cUp, cDown)
		_ = cUp()
		b.measure(noop, name+" up -d", nil, cUp, nil)
		b.measure(status, name+" ps", nil, b.composeCmd("large", "benchlargec", "ps"), nil)
		_ = cDown()
		b.measure(down, name+" down", cUp, cDown, nil)
		ccUp := b.composeCmd("cluster", "benchclusterc", "up", "-d")
		ccDown := b.composeCmd("cluster", "benchclusterc", "down")
		b.measure(cluster, name+" up -d + poll health", nil, func() error {
			if err := ccUp(); err != nil {
				return err
			}
			return b.pollHealthy("benchclusterc", 3)
		}, ccDown)
	}

	// The floor: the same containers made directly, in parallel.
	b.measure(large, "Engine API floor", nil, func() error { return b.floorUp("benchfloor", b.n, false) }, func() error { return b.floorDown("benchfloor") })
	b.measure(down, "Engine API floor", func() error { return b.floorUp("benchfloor", b.n, false) }, func() error { return b.floorDown("benchfloor") }, nil)
	b.measure(cluster, "Engine API floor + poll", nil, func() error {
		if err := b.floorUp("benchfloorc", 3, true); err != nil {
			return err
		}
		return b.pollHealthy("benchfloorc", 3)
	}, func() error { return b.floorDown("benchfloorc") })

	b.measure(cluster, "opdeploy up", nil, b.opdeploy("cluster", "up", "subject.star"), b.opdeploy("cluster", "down", "subject.star"))

	// (f) restart the 3 nodes one at a time, each healthy before the next.
	roll := "(f) rolling restart, 3 nodes"
	clusterUp := b.opdeploy("cluster", "up", "subject.star")
	clusterDown := b.opdeploy("cluster", "down", "subject.star")
	_ = clusterUp()
	b.measure(roll, "opdeploy run roll", nil, b.opdeploy("cluster", "run", "subject.star", "roll"), nil)
	_ = clusterDown()
	if b.compose != nil {
		name := filepath.Base(b.compose[0])
		cUp := b.composeCmd("cluster", "benchclusterc", "up", "-d")
		_ = cUp()
		_ = b.pollHealthy("benchclusterc", 3)
		b.measure(roll, name+" restart + poll health", nil, func() error {
			for i := 0; i < 3; i++ {
				if err := b.composeCmd("cluster", "benchclusterc", "restart", fmt.Sprintf("node%d", i))(); err != nil {
					return err
				}
				// restart returns once the container runs again (health reset
				// to starting); wait for health as `up --wait` would, polling
				// every 100 ms.
				if err := b.pollHealthy("benchclusterc", 3); err != nil {
					return err
				}
			}
			return nil
		}, nil)
		_ = b.composeCmd("cluster", "benchclusterc", "down")()
	}
}

// floorUp creates a network and n containers and starts them, all in
// parallel: the least any tool must do.
func (b *bench) floorUp(project string, n int, health bool) error {
	labels := map[string]string{"com.docker.compose.project": project}
	netName := project + "_default"
	if _, err := b.cli.NetworkCreate(b.ctx, netName, client.NetworkCreateOptions{Labels: labels}); err != nil {
		return err
	}
	g, ctx := errgroup.WithContext(b.ctx)
	g.SetLimit(32) // as opdeploy's own bound
	for i := 0; i < n; i++ {
		g.Go(func() error {
			cfg := &container.Config{Image: image, Labels: labels}
			if health {
				cfg.Healthcheck = &container.HealthConfig{Test: []string{"CMD", "/testsvc", "probe"}, Interval: 500 * time.Millisecond}
			}
			res, err := b.cli.ContainerCreate(ctx, client.ContainerCreateOptions{
				Name: fmt.Sprintf("%s-s%d-1", project, i), Config: cfg,
				HostConfig:       &container.HostConfig{NetworkMode: container.NetworkMode(netName)},
				NetworkingConfig: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{netName: {Aliases: []string{fmt.Sprintf("s%d", i)}}}},
			})
			if err != nil {
				return err
			}
			_, err = b.cli.ContainerStart(ctx, res.ID, client.ContainerStartOptions{})
			return err
		})
	}
	return g.Wait()
}

func (b *bench) floorDown(project string) error {
	f := client.Filters{}
	f.Add("label", "com.docker.compose.project="+project)
	list, err := b.cli.ContainerList(b.ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return err
	}
	g, ctx := errgroup.WithContext(b.ctx)
	g.SetLimit(32) // as opdeploy's own bound
	for _, c := range list.Items {
		g.Go(func() error {
			if _, err := b.cli.ContainerStop(ctx, c.ID, client.ContainerStopOptions{}); err != nil {
				return err
			}
			_, err := b.cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	_, err = b.cli.NetworkRemove(b.ctx, project+"_default", client.NetworkRemoveOptions{})
	return err
}

// pollHealthy polls (every 100 ms) until n containers of the project are
// healthy: what a user of a compose without --wait does.
func (b *bench) pollHealthy(project string, n int) error {
	f := client.Filters{}
	f.Add("label", "com.docker.compose.project="+project)
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		list, err := b.cli.ContainerList(b.ctx, client.ContainerListOptions{Filters: f})
		if err != nil {
			return err
		}
		healthy := 0
		for _, c := range list.Items {
			if strings.Contains(c.Status, "(healthy)") {
				healthy++
			}
		}
		if healthy >= n {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("not healthy after 2m")
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func (b *bench) print(w io.Writer) {
	var mu sync.Mutex
	mu.Lock()
	defer mu.Unlock()
	fmt.Fprintf(w, "\n%d runs each, median (min-max)\n\n", b.runs)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\ttool\tmedian\tmin-max\tnote")
	sort.SliceStable(b.rows, func(i, j int) bool { return b.rows[i].scenario < b.rows[j].scenario })
	for _, r := range b.rows {
		lo, hi := time.Duration(0), time.Duration(0)
		for i, s := range r.samples {
			if i == 0 || s < lo {
				lo = s
			}
			if s > hi {
				hi = s
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s-%s\t%s\n", r.scenario, r.tool, ms(median(r.samples)), ms(lo), ms(hi), r.note)
	}
	tw.Flush()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d)/float64(time.Millisecond)) }
