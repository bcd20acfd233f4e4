package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/moby/moby/client"
	"github.com/rogpeppe/go-internal/testscript"
)

// inspectCmd renders what the engine reports about an object, as
// `docker inspect -f` does, so that suites check opdeploy's results
// through the Engine API rather than through opdeploy's own output:
//
//	inspect container|network|volume|image NAME TEMPLATE
//
// TEMPLATE is a Go template over the engine's inspect JSON (keys as the
// engine spells them: {{.HostConfig.RestartPolicy.Name}}), with the
// functions json (a value as JSON) and join (a list joined by a separator).
// Missing keys render as "<no value>".
func inspectCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: inspect container|network|volume|image NAME TEMPLATE")
	}
	tmpl, err := template.New("inspect").Funcs(template.FuncMap{
		"json": func(v any) (string, error) {
			b, err := json.Marshal(v)
			return string(b), err
		},
		"join": func(v any, sep string) string {
			list, _ := v.([]any) // null joins as ""
			parts := make([]string, len(list))
			for i, v := range list {
				parts[i] = fmt.Sprint(v)
			}
			return strings.Join(parts, sep)
		},
	}).Parse(args[2])
	if err != nil {
		ts.Fatalf("inspect: template: %v", err)
	}
	raw, err := inspectRaw(mustDocker(ts), args[0], args[1])
	if err != nil {
		ts.Fatalf("inspect %s %s: %v", args[0], args[1], err)
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // 67108864, not 6.7108864e+07
	ts.Check(dec.Decode(&v))
	var out strings.Builder
	ts.Check(tmpl.Execute(&out, v))
	s := out.String()
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	fmt.Fprint(ts.Stdout(), s)
}

func inspectRaw(cli *client.Client, kind, name string) (json.RawMessage, error) {
	ctx := context.Background()
	switch kind {
	case "container":
		res, err := cli.ContainerInspect(ctx, name, client.ContainerInspectOptions{})
		return res.Raw, err
	case "network":
		res, err := cli.NetworkInspect(ctx, name, client.NetworkInspectOptions{})
		return res.Raw, err
	case "volume":
		res, err := cli.VolumeInspect(ctx, name, client.VolumeInspectOptions{})
		return res.Raw, err
	case "image":
		res, err := cli.ImageInspect(ctx, name)
		if err != nil {
			return nil, err
		}
		return json.Marshal(res.InspectResponse)
	}
	return nil, fmt.Errorf("unknown kind %q (want container, network, volume or image)", kind)
}

// catFileCmd prints a file of a container, read through the engine's
// archive endpoint (the container need not run, nor have a shell):
//
//	catfile CONTAINER PATH
//
// The first line is "mode=0400 uid=100 gid=0"; the content follows, ended
// with a newline if it lacks one.
func catFileCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: catfile CONTAINER PATH")
	}
	res, err := mustDocker(ts).CopyFromContainer(context.Background(), args[0], client.CopyFromContainerOptions{SourcePath: args[1]})
	if err != nil {
		ts.Fatalf("catfile %s %s: %v", args[0], args[1], err)
	}
	defer res.Content.Close()
	tr := tar.NewReader(res.Content)
	hdr, err := tr.Next()
	if errors.Is(err, io.EOF) {
		ts.Fatalf("catfile %s %s: empty archive", args[0], args[1])
	}
	ts.Check(err)
	content, err := io.ReadAll(tr)
	ts.Check(err)
	if len(content) > 0 && content[len(content)-1] != '\n' {
		content = append(content, '\n')
	}
	fmt.Fprintf(ts.Stdout(), "mode=%04o uid=%d gid=%d\n%s", hdr.Mode&0o7777, hdr.Uid, hdr.Gid, content)
}

// waitEventCmd waits, driven by the engine's event stream, until a
// container has had COUNT events of ACTION since it was created (events
// already past are replayed), for at most two minutes:
//
//	waitevent CONTAINER ACTION COUNT
//
// It is how suites wait for a restart policy to run its course.
func waitEventCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 3 {
		ts.Fatalf("usage: waitevent CONTAINER ACTION COUNT")
	}
	want, err := strconv.Atoi(args[2])
	if err != nil || want < 1 {
		ts.Fatalf("waitevent: count %q is not a positive number", args[2])
	}
	cli := mustDocker(ts)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := cli.ContainerInspect(ctx, args[0], client.ContainerInspectOptions{})
	ts.Check(err)
	created, err := time.Parse(time.RFC3339Nano, res.Container.Created)
	ts.Check(err)
	f := client.Filters{}
	f.Add("type", "container")
	f.Add("container", res.Container.ID)
	f.Add("event", args[1])
	stream := cli.Events(ctx, client.EventsListOptions{Since: strconv.FormatInt(created.Add(-time.Second).Unix(), 10), Filters: f})
	seen := 0
	for seen < want {
		select {
		case <-stream.Messages:
			seen++
		case err := <-stream.Err:
			ts.Fatalf("waitevent %s %s: saw %d of %d: %v", args[0], args[1], seen, want, err)
		}
	}
	fmt.Fprintf(ts.Stdout(), "%s: %d %s\n", args[0], seen, args[1])
}
