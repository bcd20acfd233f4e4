package local

import (
	"context"
	"fmt"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/opdeploy/opdeploy/target"
)

// BenchmarkDeathToReport measures the time from a container's SIGKILL to
// the event monitor (which every opdeploy wait is built on) reporting it
// exited. It needs a daemon and the image named by OPDEPLOY_BENCH_IMAGE
// (opdeploy-bench builds opdeploy-testsvc:bench); it skips otherwise.
//
//	go test -run '^$' -bench DeathToReport -benchtime 20x ./target/local/
func BenchmarkDeathToReport(b *testing.B) {
	image := os.Getenv("OPDEPLOY_BENCH_IMAGE")
	if image == "" {
		image = "opdeploy-testsvc:bench"
	}
	ctx := context.Background()
	cli, err := client.New(client.FromEnv)
	if err == nil {
		_, err = cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
	}
	if err != nil {
		b.Skipf("no docker daemon: %v", err)
	}
	if _, err := cli.ImageInspect(ctx, image); err != nil {
		b.Skipf("image %s: %v (run opdeploy-bench once, or set OPDEPLOY_BENCH_IMAGE)", image, err)
	}
	project := fmt.Sprintf("opdeploy-bench-death-%d", os.Getpid())
	labels := map[string]string{labelProject: project, labelService: "victim", labelNumber: "1", labelOneoff: "False"}
	res, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{Name: project + "-victim-1", Config: &container.Config{Image: image, Labels: labels}})
	if err != nil {
		b.Fatal(err)
	}
	defer cli.ContainerRemove(context.Background(), res.ID, client.ContainerRemoveOptions{Force: true})

	monCtx, stop := context.WithCancel(ctx)
	defer stop()
	mon, err := startMonitor(monCtx, cli, project, nil)
	if err != nil {
		b.Fatal(err)
	}
	state := func(want target.State, minStarts int) func([]containerState) (bool, error) {
		return func(snap []containerState) (bool, error) {
			for _, c := range snap {
				if c.ID == res.ID {
					return c.State == want && c.Starts >= minStarts, nil
				}
			}
			return false, nil
		}
	}
	var samples, killCalls, own []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if _, err := cli.ContainerStart(ctx, res.ID, client.ContainerStartOptions{}); err != nil {
			b.Fatal(err)
		}
		if err := mon.waitFor(ctx, state(target.StateRunning, i+1)); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		if _, err := cli.ContainerKill(ctx, res.ID, client.ContainerKillOptions{Signal: "SIGKILL"}); err != nil {
			b.Fatal(err)
		}
		killCalls = append(killCalls, time.Since(start))
		if err := mon.waitFor(ctx, state(target.StateExited, i+1)); err != nil {
			b.Fatal(err)
		}
		samples = append(samples, time.Since(start))
		snap, _ := mon.snapshot()
		for _, c := range snap {
			if c.ID == res.ID {
				own = append(own, c.SeenAt.Sub(c.EventAt))
			}
		}
	}
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	b.ReportMetric(float64(samples[len(samples)/2].Microseconds())/1000, "ms-median")
	b.ReportMetric(float64(samples[len(samples)-1].Microseconds())/1000, "ms-max")
	sort.Slice(killCalls, func(i, j int) bool { return killCalls[i] < killCalls[j] })
	// How much of that is the kill call itself returning.
	b.ReportMetric(float64(killCalls[len(killCalls)/2].Microseconds())/1000, "ms-kill-call-median")
	// opdeploy's own share: from the engine emitting "die" to the monitor
	// having applied it.
	sort.Slice(own, func(i, j int) bool { return own[i] < own[j] })
	b.ReportMetric(float64(own[len(own)/2].Microseconds())/1000, "ms-event-to-report-median")
}
