package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/rogpeppe/go-internal/testscript"
)

// labelTestProject marks containers a script makes behind opdeploy's back,
// outside its project, so that the harness removes them afterwards.
const labelTestProject = "dev.opdeploy.test.project"

// engineCmd acts on the engine directly, behind opdeploy's back, as an
// operator or another tool would:
//
//	engine stop|kill|start|rm|pause CONTAINER
//	engine disconnect NETWORK CONTAINER
//	engine run NAME NETWORK    a container of $TESTIMAGE outside the project, on NETWORK
//	engine top CONTAINER       prints the command line of each of its processes
//	engine image-id REF VAR    sets $VAR to the ID of an image
//	engine image-gone ID       fails unless no image has that ID
func engineCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: engine stop|kill|start|rm CONTAINER | engine run NAME NETWORK")
	}
	cli := mustDocker(ts)
	ctx := context.Background()
	var err error
	switch args[0] {
	case "stop":
		_, err = cli.ContainerStop(ctx, args[1], client.ContainerStopOptions{})
	case "kill":
		_, err = cli.ContainerKill(ctx, args[1], client.ContainerKillOptions{Signal: "SIGKILL"})
	case "start":
		_, err = cli.ContainerStart(ctx, args[1], client.ContainerStartOptions{})
	case "rm":
		_, err = cli.ContainerRemove(ctx, args[1], client.ContainerRemoveOptions{Force: true})
	case "pause":
		_, err = cli.ContainerPause(ctx, args[1], client.ContainerPauseOptions{})
	case "disconnect":
		if len(args) != 3 {
			ts.Fatalf("usage: engine disconnect NETWORK CONTAINER")
		}
		_, err = cli.NetworkDisconnect(ctx, args[1], client.NetworkDisconnectOptions{Container: args[2], Force: true})
	case "image-id":
		var res client.ImageInspectResult
		if len(args) != 3 {
			ts.Fatalf("usage: engine image-id REF VAR")
		}
		res, err = cli.ImageInspect(ctx, args[1])
		if err == nil {
			ts.Setenv(args[2], res.ID)
			return
		}
	case "mount-volume":
		// engine mount-volume CONTAINER PATH VAR: VAR = the volume mounted
		// at PATH in CONTAINER.
		if len(args) != 4 {
			ts.Fatalf("usage: engine mount-volume CONTAINER PATH VAR")
		}
		var res client.ContainerInspectResult
		res, err = cli.ContainerInspect(ctx, args[1], client.ContainerInspectOptions{})
		if err == nil {
			for _, m := range res.Container.Mounts {
				if m.Destination == args[2] {
					ts.Setenv(args[3], m.Name)
					return
				}
			}
			ts.Fatalf("no volume at %s in %s", args[2], args[1])
		}
	case "volume-gone":
		_, err = cli.VolumeInspect(ctx, args[1], client.VolumeInspectOptions{})
		if err == nil {
			ts.Fatalf("volume %s still exists", args[1])
		}
		if !errdefs.IsNotFound(err) {
			ts.Fatalf("engine volume-gone %s: %v", args[1], err)
		}
		err = nil
	case "image-gone":
		_, err = cli.ImageInspect(ctx, args[1])
		if err == nil {
			ts.Fatalf("image %s still exists", args[1])
		}
		if !strings.Contains(err.Error(), "No such image") {
			ts.Fatalf("engine image-gone %s: %v", args[1], err)
		}
		err = nil
	case "top":
		var res client.ContainerTopResult
		res, err = cli.ContainerTop(ctx, args[1], client.ContainerTopOptions{Arguments: []string{"-o", "pid,args"}})
		if err == nil {
			for _, p := range res.Processes {
				fmt.Fprintln(ts.Stdout(), strings.Join(p, " "))
			}
			return
		}
	case "run":
		if len(args) != 3 {
			ts.Fatalf("usage: engine run NAME NETWORK")
		}
		var res client.ContainerCreateResult
		res, err = cli.ContainerCreate(ctx, client.ContainerCreateOptions{
			Name:             args[1],
			Config:           &container.Config{Image: testImage, Labels: map[string]string{labelTestProject: ts.Getenv("PROJECT")}},
			HostConfig:       &container.HostConfig{NetworkMode: container.NetworkMode(args[2])},
			NetworkingConfig: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{args[2]: {}}},
		})
		if err == nil {
			_, err = cli.ContainerStart(ctx, res.ID, client.ContainerStartOptions{})
		}
	default:
		ts.Fatalf("engine: unknown action %q", args[0])
	}
	if err != nil {
		ts.Fatalf("engine %s: %v", strings.Join(args, " "), err)
	}
	fmt.Fprintf(ts.Stdout(), "%s %s\n", args[0], args[1])
}
