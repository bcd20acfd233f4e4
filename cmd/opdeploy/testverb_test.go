package main

import (
	"context"
	"encoding/xml"
	"fmt"
	"sort"
	"strings"

	"github.com/moby/moby/client"
	"github.com/rogpeppe/go-internal/testscript"
)

// testVerbCommands check what `opdeploy test` did, from the outside.
var testVerbCommands = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	"junit":     junitCmd,
	"leftovers": leftoversCmd,
}

// The JUnit schema as a CI system reads it, declared here anew rather than
// borrowed from package suite, so that the test checks the XML itself.
type junitDoc struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Skipped  int      `xml:"skipped,attr"`
	Suites   []struct {
		Name  string `xml:"name,attr"`
		Tests int    `xml:"tests,attr"`
		Cases []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Time      string `xml:"time,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// junit FILE: parses a JUnit report with encoding/xml and prints its
// totals, then one line per testcase: classname, name, outcome, and the
// failure's message or the skip's reason. A failure's text must hold the
// line its message names.
func junitCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: junit FILE")
	}
	var doc junitDoc
	if err := xml.Unmarshal([]byte(ts.ReadFile(args[0])), &doc); err != nil {
		ts.Fatalf("%s: %v", args[0], err)
	}
	fmt.Fprintf(ts.Stdout(), "tests=%d failures=%d skipped=%d\n", doc.Tests, doc.Failures, doc.Skipped)
	for _, s := range doc.Suites {
		if s.Tests != len(s.Cases) {
			ts.Fatalf("testsuite %s: tests=%d but %d testcases", s.Name, s.Tests, len(s.Cases))
		}
		for _, c := range s.Cases {
			if c.Time == "" {
				ts.Fatalf("testcase %s has no time", c.Name)
			}
			outcome := "passed"
			switch {
			case c.Failure != nil:
				if !strings.Contains(c.Failure.Text, "FAIL: "+c.Failure.Message) {
					ts.Fatalf("testcase %s: the failure's text does not hold its message %q:\n%s", c.Name, c.Failure.Message, c.Failure.Text)
				}
				outcome = "failed: " + c.Failure.Message
			case c.Skipped != nil:
				outcome = "skipped: " + c.Skipped.Message
			}
			fmt.Fprintf(ts.Stdout(), "%s %s %s\n", c.Classname, c.Name, outcome)
		}
	}
}

// leftovers PREFIX: prints the containers, networks and volumes whose
// project label begins with PREFIX (the projects of the scripts an
// `opdeploy test` ran, when it ran with OPDEPLOY_PROJECT=PREFIX), or
// "(none)".
func leftoversCmd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: leftovers PREFIX")
	}
	lines, err := projectsWithPrefix(context.Background(), mustDocker(ts), args[0])
	ts.Check(err)
	printLines(ts, lines)
}

// projectsWithPrefix lists what carries a project label beginning with
// prefix, as "container|network|volume NAME (project P)".
func projectsWithPrefix(ctx context.Context, cli *client.Client, prefix string) ([]string, error) {
	f := client.Filters{}
	f.Add("label", "com.docker.compose.project")
	var lines []string
	containers, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, err
	}
	for _, c := range containers.Items {
		if p := c.Labels["com.docker.compose.project"]; strings.HasPrefix(p, prefix) {
			lines = append(lines, fmt.Sprintf("container %s (project %s)", strings.TrimPrefix(c.Names[0], "/"), p))
		}
	}
	nets, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return nil, err
	}
	for _, n := range nets.Items {
		if p := n.Labels["com.docker.compose.project"]; strings.HasPrefix(p, prefix) {
			lines = append(lines, fmt.Sprintf("network %s (project %s)", n.Name, p))
		}
	}
	vols, err := cli.VolumeList(ctx, client.VolumeListOptions{Filters: f})
	if err != nil {
		return nil, err
	}
	for _, v := range vols.Items {
		if p := v.Labels["com.docker.compose.project"]; strings.HasPrefix(p, prefix) {
			lines = append(lines, fmt.Sprintf("volume %s (project %s)", v.Name, p))
		}
	}
	sort.Strings(lines)
	return lines, nil
}

// nestedProjects are the projects of scripts that an `opdeploy test` run
// by the script with this project ran: named PROJECT-SCRIPT-RANDOM. The
// harness removes them too when the script ends, in case the run under
// test left something behind.
func nestedProjects(ctx context.Context, cli *client.Client, project string) []string {
	lines, err := projectsWithPrefix(ctx, cli, project+"-")
	if err != nil {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for _, l := range lines {
		p := strings.TrimSuffix(l[strings.LastIndex(l, "(project ")+len("(project "):], ")")
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}
