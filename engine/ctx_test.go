package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/opdeploy/opdeploy/target"
)

// Every ctx action reaches the target with the arguments the sequence
// gave, as a step with its own start and end event.
func TestCtxActionsReachTheTarget(t *testing.T) {
	s, rt := loadRecording(t, `
subject(name = "s", target = local_deployment(services = {"api": {"image": "x"}, "db": {"image": "x"}}))
def seq(ctx):
    if ctx.services() != ["api", "db"]:
        fail("services: %s" % ctx.services())
    ctx.stop("db", timeout = "3s")
    ctx.start("db")
    ctx.kill("api")
    ctx.kill("api", signal = "SIGTERM")
    ctx.pause("db")
    ctx.unpause("db")
    ctx.disconnect("db")
    ctx.connect("db")
    ctx.restart(["api", "db"], timeout = "10s")
    ctx.wait_healthy("api", timeout = "5s")
    r = ctx.exec("db", "echo hi")
    if r.exit_code != 0 or r.stdout != "hi\n":
        fail("exec: %s" % r)
    ctx.exec("db", ["ls", "/"])
sequence("seq", seq)
`)
	rt.exec = target.ExecResult{Stdout: "hi\n"}
	var steps []string
	err := s.Run(context.Background(), "seq", RunOptions{Steps: func(e StepEvent) {
		if e.Kind == StepStart {
			steps = append(steps, e.Step)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := "stop db grace 3s; start db; kill api SIGKILL; kill api SIGTERM; pause db; unpause db; disconnect db; connect db; " +
		"restart api,db within 10s; wait_healthy api within 5s; exec db sh -c echo hi; exec db ls /"
	if got := rt.recorded(); got != want {
		t.Errorf("calls\n %s\nwant\n %s", got, want)
	}
	if got := strings.Join(steps, " "); got != "stop start kill kill pause unpause disconnect connect restart wait_healthy exec exec" {
		t.Errorf("steps %s", got)
	}
}

func TestCtxStatusAndContainers(t *testing.T) {
	s, rt := loadRecording(t, `
subject(name = "s", target = local_deployment(services = {"api": {"image": "x"}, "db": {"image": "x"}}))
def seq(ctx):
    st = ctx.status()
    if not st.all_healthy or len(st.services) != 2:
        fail("status %s" % st)
    db = ctx.containers("db")
    if len(db) != 1 or db[0].ready or db[0].state != "exited" or db[0].reason != "exited with code 137":
        fail("containers %s" % db)
sequence("seq", seq)
`)
	rt.status = []target.ServiceStatus{
		{Service: "api", Container: "p-api-1", Number: 1, State: target.StateRunning, Health: target.HealthHealthy, Ready: true},
		{Service: "db", Container: "p-db-1", Number: 1, State: target.StateExited, ExitCode: 137, Ready: false, Reason: "exited with code 137"},
	}
	if err := s.Run(context.Background(), "seq", RunOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestCtxHTTP(t *testing.T) {
	s, _ := loadRecording(t, `
subject(name = "s", target = local_deployment(services = {"api": {"image": "x"}}))
def seq(ctx):
    r = ctx.http("api", 80, "/health")
    if r.status != 200 or not r.json()["ok"]:
        fail("health %s" % r.body)
    r = ctx.http("api", 80, "/echo", method = "POST", body = {"k": 1})
    if r.body != 'POST application/json {"k":1}':
        fail("echo %s" % r.body)
    if ctx.http("api", 80, "/nope").status != 404:
        fail("404")
sequence("seq", seq)
`)
	if err := s.Run(context.Background(), "seq", RunOptions{}); err != nil {
		t.Fatal(err)
	}
}

func TestCtxArgumentErrors(t *testing.T) {
	for src, want := range map[string]string{
		`ctx.exec("db", ["ls", 1])`:           `ctx.exec: for parameter command: element 1: got int, want string`,
		`ctx.sleep("soon")`:                   `"soon" is not a duration`,
		`ctx.wait_healthy("db", timeout = 5)`: `got int, want duration string`,
		`ctx.kill()`:                          `ctx.kill: missing argument for service`,
	} {
		s, _ := loadRecording(t, `
subject(name = "s", target = local_deployment(services = {"db": {"image": "x"}}))
def seq(ctx):
    `+src+`
sequence("seq", seq)
`)
		err := s.Run(context.Background(), "seq", RunOptions{})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", src, err, want)
		}
	}
}
