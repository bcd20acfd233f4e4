package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"
	"github.com/opdeploy/opdeploy/engine"
	"github.com/rogpeppe/go-internal/testscript"
)

// The swarm suites (testdata/swarm) run against the lab of
// examples/subjects/swarm-lab.star: a swarm of Docker engines in
// containers on the test machine (docs/swarm.md). The lab is brought up
// once per test binary, by the first swarm script, in a project and subnet
// of its own, and taken down by TestMain when every test has run.

// swarmLabNodes is the lab's size. Three nodes: a manager and two workers,
// enough to place replicas apart and to lose one.
const swarmLabNodes = 3

// swarmLabState is the lab of this test binary.
var swarmLabState struct {
	once     sync.Once
	project  string
	subnet   string
	endpoint string   // the manager's engine, tcp://node1:2375
	nodes    []string // every node's engine, node1 first
	started  bool     // up ran, maybe half-way: TestMain takes it down
	skip     string   // why the lab cannot be had here (not a failure)
	err      error    // why the lab did not come up
	took     time.Duration

	// disrupt is held shared by every swarm script and exclusively by a
	// script that stops or kills lab nodes (labnode): the others must not
	// see nodes come and go under them.
	disrupt sync.RWMutex
}

// swarmTeardown wraps the package's testing.M: after every test has run,
// the lab (if any) is removed with its volumes, through opdeploy, and then
// whatever a half-made lab may have left is removed directly, images
// (opdeploy-test/<lab project>:node and :init) included.
type swarmTeardown struct{ m *testing.M }

func (s swarmTeardown) Run() int {
	code := s.m.Run()
	if swarmLabState.started {
		out, c := runOpdeploy(swarmLabArgs("down", "-v")...)
		if c != 0 {
			fmt.Fprintf(os.Stderr, "swarm lab %s: down -v failed (exit %d):\n%s", swarmLabState.project, c, out)
			if code == 0 {
				code = 1
			}
		}
		if dockerState.cli != nil {
			cleanupProject(dockerState.cli, swarmLabState.project)
		}
	}
	return code
}

// runOpdeploy runs opdeploy in this process, through the entry Main uses.
func runOpdeploy(args ...string) (string, int) {
	var out bytes.Buffer
	code := run(args, &out, &out)
	return out.String(), code
}

func swarmLabFile() string {
	file, err := filepath.Abs("../../examples/subjects/swarm-lab.star")
	if err != nil {
		panic(err)
	}
	return file
}

// swarmLabArgs are opdeploy's arguments for verb on the lab. The project is
// given with -p as well as the subject's own parameter, so that an
// OPDEPLOY_PROJECT in the environment (a CI job's) cannot redirect it.
func swarmLabArgs(verb string, extra ...string) []string {
	s := &swarmLabState
	args := []string{verb, swarmLabFile(), "-p", s.project,
		"--set", "project=" + s.project,
		"--set", "subnet=" + s.subnet,
		"--set", "images=opdeploy-test/" + s.project,
		"--set", fmt.Sprintf("nodes=%d", swarmLabNodes),
		"--progress", "plain"}
	return append(args, extra...)
}

// swarmLab brings the lab up once; later calls return what the first found.
func swarmLab() error {
	s := &swarmLabState
	s.once.Do(func() {
		if _, err := docker(); err != nil {
			if dockerState.err != nil && os.Getenv("CI") != "true" {
				s.skip = "no Docker daemon: " + err.Error()
				return
			}
			s.err = err
			return
		}
		// The lab packs the host's dockerd (Debian's docker.io, which
		// scripts/setup installs); a machine without it cannot have one.
		if _, err := os.Stat("/usr/sbin/dockerd"); err != nil && os.Getenv("CI") != "true" {
			s.skip = "no /usr/sbin/dockerd to pack into the lab's nodes (scripts/setup installs docker.io)"
			return
		}
		b := make([]byte, 3)
		_, _ = rand.Read(b)
		s.project = "opdt-swarmlab-" + hex.EncodeToString(b)
		// Two test binaries (worktrees, CI jobs) may run labs side by side:
		// each takes a free /24 of 10.214.0.0/16, and picks again if the
		// engine says another one took it meanwhile.
		start := time.Now()
		for attempt := 0; ; attempt++ {
			s.subnet, s.err = freeLabSubnet()
			if s.err != nil {
				return
			}
			s.started = true
			out, code := runOpdeploy(swarmLabArgs("up")...)
			if code == 0 {
				s.err = nil
				break
			}
			s.err = fmt.Errorf("opdeploy up %s (project %s, subnet %s): exit %d:\n%s", swarmLabFile(), s.project, s.subnet, code, out)
			if attempt == 2 || !strings.Contains(out, "overlap") {
				return
			}
			runOpdeploy(swarmLabArgs("down", "-v")...)
		}
		s.took = time.Since(start)
		prefix := strings.TrimSuffix(s.subnet, ".0/24")
		for i := 1; i <= swarmLabNodes; i++ {
			s.nodes = append(s.nodes, fmt.Sprintf("tcp://%s.%d:2375", prefix, 10+i))
		}
		s.endpoint = s.nodes[0]
	})
	return s.err
}

// freeLabSubnet picks a random /24 of 10.214.0.0/16 that no network of the
// engine overlaps. 10.213.0.0/24 is the lab's default, left to people.
func freeLabSubnet() (string, error) {
	cli, err := docker()
	if err != nil {
		return "", err
	}
	res, err := cli.NetworkList(context.Background(), client.NetworkListOptions{})
	if err != nil {
		return "", err
	}
	var used []*net.IPNet
	for _, n := range res.Items {
		for _, c := range n.IPAM.Config {
			if _, ipnet, err := net.ParseCIDR(c.Subnet.String()); err == nil {
				used = append(used, ipnet)
			}
		}
	}
	for range 64 {
		n, _ := rand.Int(rand.Reader, big.NewInt(256))
		cand := fmt.Sprintf("10.214.%d.0/24", n.Int64())
		_, ipnet, _ := net.ParseCIDR(cand)
		free := true
		for _, u := range used {
			if u.Contains(ipnet.IP) || ipnet.Contains(u.IP) {
				free = false
			}
		}
		if free {
			return cand, nil
		}
	}
	return "", fmt.Errorf("no free /24 in 10.214.0.0/16 for the swarm lab")
}

// swarmCondition implements [swarm]: the lab is up. Without Docker (or
// dockerd to pack) it is false; a lab that should come up and does not is
// an error, in CI and out.
func swarmCondition() (bool, error) {
	if err := swarmLab(); err != nil {
		return false, fmt.Errorf("swarm lab: %v", err)
	}
	if swarmLabState.skip != "" {
		if os.Getenv("CI") == "true" {
			return false, fmt.Errorf("swarm lab: %s", swarmLabState.skip)
		}
		return false, nil
	}
	return true, nil
}

// TestSwarm runs the txtar suites in testdata/swarm against the lab.
// Scripts get, besides what TestScripts gives them:
//
//	SWARM_ENDPOINT  the manager's engine, tcp://<node1>:2375
//	SWARM_NODES     every node's engine, space-separated, node1 first
//	SWARM_NODEn     node n's engine (from 1)
//	SWARM_NODEn_ADDR  node n's address (where it publishes ports)
//	SWARM_LAB       the lab's project (its containers are $SWARM_LAB-nodeN-1,
//	                its images opdeploy-test/$SWARM_LAB:node and :init)
//	SWARM_SUBNET    the lab's subnet (node N is at .(10+N))
//
// and the commands swarmnodes and labnode. Whatever a script left on the
// swarm under its project is removed when it ends.
func TestSwarm(t *testing.T) {
	if testing.Short() {
		t.Skip("the swarm lab takes a few seconds to come up; not with -short")
	}
	examples, err := filepath.Abs("../../examples/subjects")
	if err != nil {
		t.Fatal(err)
	}
	cmds := scriptCommands()
	for name, fn := range swarmCommands {
		cmds[name] = fn
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "../../testdata/swarm",
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       os.Getenv("UPDATE_GOLDEN") != "",
		Cmds:                cmds,
		Setup: func(env *testscript.Env) error {
			env.Setenv("HOME", filepath.Join(env.WorkDir, ".home"))
			env.Setenv("NO_COLOR", "1")
			setupProject(env)
			if swarmLab() == nil && swarmLabState.skip == "" {
				s := &swarmLabState
				env.T().Log("swarm lab", s.project, "up: subnet", s.subnet, "came up in", s.took.Round(100*time.Millisecond))
				env.Setenv("SWARM_ENDPOINT", s.endpoint)
				env.Setenv("SWARM_NODES", strings.Join(s.nodes, " "))
				for i, n := range s.nodes {
					env.Setenv(fmt.Sprintf("SWARM_NODE%d", i+1), n)
					if u, err := url.Parse(n); err == nil {
						env.Setenv(fmt.Sprintf("SWARM_NODE%d_ADDR", i+1), u.Hostname())
					}
				}
				env.Setenv("SWARM_LAB", s.project)
				env.Setenv("SWARM_SUBNET", s.subnet)
				// Deferred functions run last first: the script's objects
				// are removed once lockLab has made the lab whole again.
				project := env.Getenv("PROJECT")
				env.Defer(func() { cleanupSwarmProject(project) })
				lockLab(env)
			}
			return copyTree(examples, filepath.Join(env.WorkDir, "examples"))
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "swarm":
				return swarmCondition()
			case "docker":
				return dockerCondition()
			}
			return false, fmt.Errorf("unknown condition %q", cond)
		},
	})
}

// labnodeLine finds scripts that disturb the whole lab: they stop or kill
// lab nodes, or say so with a line "# lab: exclusive" (draining a node
// moves every script's tasks off it).
var labnodeLine = regexp.MustCompile(`(?m)^\s*(\[[^]]*\]\s*)*!?\s*labnode\s+(stop|kill)\b|^#\s*lab:\s*exclusive\b`)

// lockLab holds the lab for the script: exclusively when the script stops
// or kills nodes, shared otherwise. An exclusive script ends by starting
// every node again and waiting until the swarm lists all of them Ready, so
// that the next script finds the lab whole.
func lockLab(env *testscript.Env) {
	name := strings.TrimPrefix(filepath.Base(env.WorkDir), "script-")
	data, err := os.ReadFile(filepath.Join("../../testdata/swarm", name+".txtar"))
	if err == nil && labnodeLine.Match(data) {
		swarmLabState.disrupt.Lock()
		env.Defer(func() {
			defer swarmLabState.disrupt.Unlock()
			start := time.Now()
			if err := restoreLab(); err != nil {
				env.T().Fatal(fmt.Sprintf("restoring the swarm lab: %v", err))
			}
			env.T().Log("swarm lab restored in", time.Since(start).Round(100*time.Millisecond))
		})
		return
	}
	swarmLabState.disrupt.RLock()
	env.Defer(swarmLabState.disrupt.RUnlock)
}

// labContainer is the outer engine's container of lab node n (from 1).
func labContainer(n int) string {
	return fmt.Sprintf("%s-node%d-1", swarmLabState.project, n)
}

// restoreLab starts any lab node that is not running and waits until the
// manager lists every node Ready.
func restoreLab() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cli, err := docker()
	if err != nil {
		return err
	}
	for i := 1; i <= swarmLabNodes; i++ {
		res, err := cli.ContainerInspect(ctx, labContainer(i), client.ContainerInspectOptions{})
		if err != nil {
			return err
		}
		if !res.Container.State.Running {
			if err := startLabNode(ctx, cli, i); err != nil {
				return err
			}
			if err := waitSwarmActive(ctx, swarmLabState.nodes[i-1]); err != nil {
				return err
			}
		}
	}
	mgr, err := swarmClient(swarmLabState.endpoint)
	if err != nil {
		return err
	}
	defer mgr.Close()
	return waitNodesReady(ctx, mgr, swarmLabNodes)
}

// startLabNode starts node n's container and returns once its engine is
// healthy (the container's health_status event), or its start failed.
func startLabNode(ctx context.Context, cli *client.Client, n int) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	f := client.Filters{}
	f.Add("type", "container")
	f.Add("container", labContainer(n))
	f.Add("event", "health_status")
	f.Add("event", "die")
	stream := cli.Events(ctx, client.EventsListOptions{Filters: f})
	if _, err := cli.ContainerStart(ctx, labContainer(n), client.ContainerStartOptions{}); err != nil {
		return err
	}
	// Already running and healthy: no event will come.
	if res, err := cli.ContainerInspect(ctx, labContainer(n), client.ContainerInspectOptions{}); err == nil &&
		res.Container.State.Health != nil && res.Container.State.Health.Status == "healthy" {
		return nil
	}
	for {
		select {
		case m := <-stream.Messages:
			switch {
			case m.Action == "die":
				return fmt.Errorf("%s exited as it started", labContainer(n))
			case m.Action == "health_status: healthy":
				return nil
			}
		case err := <-stream.Err:
			return fmt.Errorf("waiting for %s to be healthy: %v", labContainer(n), err)
		}
	}
}

// waitSwarmActive returns once the engine at endpoint says it is in the
// swarm again (a restarted node reconnects to the manager on its own). The
// engine sends no event for that: it is asked every 200 ms, boundedly.
func waitSwarmActive(ctx context.Context, endpoint string) error {
	node, err := swarmClient(endpoint)
	if err != nil {
		return err
	}
	defer node.Close()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	var state swarm.LocalNodeState
	for {
		if res, err := node.Info(ctx, client.InfoOptions{}); err == nil {
			state = res.Info.Swarm.LocalNodeState
			if state == swarm.LocalNodeStateActive {
				return nil
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return fmt.Errorf("%s: swarm state %q, not active: %v", endpoint, state, context.Cause(ctx))
		}
	}
}

// swarmClient is a client of one lab engine (tcp, no TLS).
func swarmClient(endpoint string) (*client.Client, error) {
	return client.New(client.WithHost(endpoint))
}

// waitNodesReady returns once the manager lists want nodes, all Ready. It
// lists again at each node event of the manager (a node's state changes
// are events there), and once a second in case one is missed.
// waitNodeDown waits until the manager reports the node down.
func waitNodeDown(ctx context.Context, mgr *client.Client, hostname string) error {
	return waitNodes(ctx, mgr, "node "+hostname+" down", func(nodes []swarm.Node) bool {
		for _, n := range nodes {
			if n.Description.Hostname == hostname && n.Status.State == swarm.NodeStateDown {
				return true
			}
		}
		return false
	})
}

// waitNodesReady waits until the manager lists want nodes, all Ready.
func waitNodesReady(ctx context.Context, mgr *client.Client, want int) error {
	return waitNodes(ctx, mgr, fmt.Sprintf("%d nodes Ready", want), func(nodes []swarm.Node) bool {
		ready := 0
		for _, n := range nodes {
			if n.Status.State == swarm.NodeStateReady {
				ready++
			}
		}
		return ready == want && len(nodes) == want
	})
}

// waitNodes looks at the nodes until done says so, woken by node events
// and looking again every second (a node's heartbeat lapsing makes no
// event of its own on every engine version).
func waitNodes(ctx context.Context, mgr *client.Client, what string, done func([]swarm.Node) bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f := client.Filters{}
	f.Add("type", "node")
	stream := mgr.Events(ctx, client.EventsListOptions{Filters: f})
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var last []string
	for {
		nodes, err := listNodes(ctx, mgr)
		if err == nil {
			if done(nodes) {
				return nil
			}
			last = formatNodes(nodes)
		}
		select {
		case <-stream.Messages:
		case <-tick.C:
		case <-ctx.Done():
			return fmt.Errorf("not %s: %v (last seen: %s)", what, context.Cause(ctx), strings.Join(last, "; "))
		}
	}
}

func listNodes(ctx context.Context, mgr *client.Client) ([]swarm.Node, error) {
	res, err := mgr.NodeList(ctx, client.NodeListOptions{})
	if err != nil {
		return nil, err
	}
	return res.Items, nil
}

// formatNodes gives "hostname state availability" for each node.
func formatNodes(nodes []swarm.Node) []string {
	var lines []string
	for _, n := range nodes {
		lines = append(lines, fmt.Sprintf("%s %s %s", n.Description.Hostname, n.Status.State, n.Spec.Availability))
	}
	return lines
}

// removeNodeVolumes removes a node's volumes that match f and returns how
// many are left. A node that does not answer within 5 s (stopped by a
// script that failed before the lab was restored) is passed over.
func removeNodeVolumes(ctx context.Context, endpoint string, f client.Filters) (left int) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	node, err := swarmClient(endpoint)
	if err != nil {
		return 0
	}
	defer node.Close()
	res, err := node.VolumeList(ctx, client.VolumeListOptions{Filters: f})
	if err != nil {
		return 0
	}
	for _, v := range res.Items {
		if _, err := node.VolumeRemove(ctx, v.Name, client.VolumeRemoveOptions{}); err != nil {
			left++
		}
	}
	return left
}

// swarmCommands are the swarm suites' own script commands.
var swarmCommands = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	// swarmnodes: prints "hostname state availability" for each node of
	// the swarm, as the manager ($SWARM_ENDPOINT) lists them.
	// swarmnodes ready N: waits (up to a minute) until the manager lists
	// N nodes, all Ready, then prints them.
	// swarmnodes down NODE: waits (up to a minute) until the manager sees
	// NODE down, then prints the nodes.
	"swarmnodes": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || (len(args) != 0 && (len(args) != 2 || (args[0] != "ready" && args[0] != "down"))) {
			ts.Fatalf("usage: swarmnodes [ready N | down NODE]")
		}
		mgr := mustSwarm(ts)
		defer mgr.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if len(args) == 2 && args[0] == "down" {
			ts.Check(waitNodeDown(ctx, mgr, args[1]))
		} else if len(args) == 2 {
			n, err := strconv.Atoi(args[1])
			if err != nil {
				ts.Fatalf("swarmnodes ready %s: not a number", args[1])
			}
			ts.Check(waitNodesReady(ctx, mgr, n))
		}
		nodes, err := listNodes(ctx, mgr)
		ts.Check(err)
		printLines(ts, formatNodes(nodes))
	},
	// tasks SERVICE: prints "slot node desired state" for every task the
	// manager remembers of the swarm service SERVICE (its engine name),
	// oldest first, so scripts see replacements without opdeploy.
	"tasks": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: tasks SERVICE")
		}
		mgr := mustSwarm(ts)
		defer mgr.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		f := client.Filters{}
		f.Add("service", args[0])
		res, err := mgr.TaskList(ctx, client.TaskListOptions{Filters: f})
		ts.Check(err)
		nodes, err := listNodes(ctx, mgr)
		ts.Check(err)
		host := map[string]string{}
		for _, n := range nodes {
			host[n.ID] = n.Description.Hostname
		}
		tasks := res.Items
		sort.Slice(tasks, func(i, j int) bool { return tasks[i].Meta.CreatedAt.Before(tasks[j].Meta.CreatedAt) })
		var lines []string
		for _, t := range tasks {
			lines = append(lines, fmt.Sprintf("%d %s %s %s", t.Slot, host[t.NodeID], t.DesiredState, t.Status.State))
		}
		printLines(ts, lines)
	},
	// labnode stop|start|kill N: stops (as `docker stop` does), starts or
	// SIGKILLs lab node N's container on the outer engine. start returns
	// once the node's engine is healthy again; whether the swarm lists it
	// Ready is for `swarmnodes ready` to wait for. A script that stops or
	// kills nodes runs alone, and the harness starts its nodes again at
	// its end.
	"labnode": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 2 {
			ts.Fatalf("usage: labnode stop|start|kill N")
		}
		n, err := strconv.Atoi(args[1])
		if err != nil || n < 1 || n > swarmLabNodes {
			ts.Fatalf("labnode: node %q: want 1 to %d", args[1], swarmLabNodes)
		}
		if swarmLabState.project == "" {
			ts.Fatalf("labnode: the swarm lab is not up (use [swarm])")
		}
		cli := mustDocker(ts)
		ctx := context.Background()
		switch args[0] {
		case "stop":
			_, err = cli.ContainerStop(ctx, labContainer(n), client.ContainerStopOptions{})
		case "kill":
			_, err = cli.ContainerKill(ctx, labContainer(n), client.ContainerKillOptions{Signal: "SIGKILL"})
		case "start":
			err = startLabNode(ctx, cli, n)
		default:
			ts.Fatalf("labnode: unknown action %q", args[0])
		}
		if err != nil {
			ts.Fatalf("labnode %s: %v", strings.Join(args, " "), err)
		}
		fmt.Fprintf(ts.Stdout(), "%s node%d\n", args[0], n)
	},
}

func mustSwarm(ts *testscript.TestScript) *client.Client {
	endpoint := ts.Getenv("SWARM_ENDPOINT")
	if endpoint == "" {
		ts.Fatalf("no SWARM_ENDPOINT: the swarm lab is not up (use [swarm])")
	}
	mgr, err := swarmClient(endpoint)
	ts.Check(err)
	return mgr
}

// cleanupSwarmProject removes what a script's project left on the swarm:
// its services first, then (once their tasks are gone and the networks
// free) its networks, secrets and configs, all labelled as the swarm target
// labels them (com.docker.stack.namespace, target/swarm/names.go), and the
// volumes its tasks made on each node.
func cleanupSwarmProject(project string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	mgr, err := swarmClient(swarmLabState.endpoint)
	if err != nil {
		return
	}
	defer mgr.Close()
	f := client.Filters{}
	f.Add("label", "com.docker.stack.namespace="+project)
	if res, err := mgr.ServiceList(ctx, client.ServiceListOptions{Filters: f}); err == nil {
		for _, s := range res.Items {
			_, _ = mgr.ServiceRemove(ctx, s.ID, client.ServiceRemoveOptions{})
		}
	}
	if res, err := mgr.SecretList(ctx, client.SecretListOptions{Filters: f}); err == nil {
		for _, s := range res.Items {
			_, _ = mgr.SecretRemove(ctx, s.ID, client.SecretRemoveOptions{})
		}
	}
	if res, err := mgr.ConfigList(ctx, client.ConfigListOptions{Filters: f}); err == nil {
		for _, c := range res.Items {
			_, _ = mgr.ConfigRemove(ctx, c.ID, client.ConfigRemoveOptions{})
		}
	}
	// A removed service's tasks stop asynchronously and hold its networks
	// and volumes until they are gone; the engines say nothing we could
	// wait on for that, so removal is retried, boundedly.
	retry := time.NewTicker(200 * time.Millisecond)
	defer retry.Stop()
	for {
		left := 0
		if res, err := mgr.NetworkList(ctx, client.NetworkListOptions{Filters: f}); err == nil {
			for _, n := range res.Items {
				if _, err := mgr.NetworkRemove(ctx, n.ID, client.NetworkRemoveOptions{}); err != nil {
					left++
				}
			}
		}
		for _, endpoint := range swarmLabState.nodes {
			left += removeNodeVolumes(ctx, endpoint, f)
		}
		if left == 0 {
			return
		}
		select {
		case <-retry.C:
		case <-ctx.Done():
			fmt.Fprintf(os.Stderr, "swarm lab: %d networks or volumes of %s could not be removed\n", left, project)
			return
		}
	}
}

// The lab's subject loads with its defaults and with other sizes, and
// refuses parameters it cannot honour, without Docker.
func TestLoadSwarmLab(t *testing.T) {
	for _, c := range []struct {
		params   map[string]string
		services int
	}{
		{nil, 4}, // node1..3 and init
		{map[string]string{"nodes": "5", "managers": "3", "subnet": "10.250.3.0/24"}, 6},
	} {
		s, err := loadExample(t, swarmLabFile(), engine.Options{Params: c.params})
		if err != nil {
			t.Fatalf("%v: %v", c.params, err)
		}
		if got := len(s.Target.Describe().Services); got != c.services {
			t.Errorf("%v: %d services, want %d", c.params, got, c.services)
		}
	}
	for _, bad := range []map[string]string{
		{"nodes": "0"},
		{"managers": "4"},
		{"subnet": "10.250.0.0/16"},
	} {
		if _, err := loadExample(t, swarmLabFile(), engine.Options{Params: bad}); err == nil {
			t.Errorf("%v: loaded, want an error", bad)
		}
	}
}
