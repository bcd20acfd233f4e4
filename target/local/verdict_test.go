package local

import (
	"strings"
	"testing"
	"time"

	"github.com/opdeploy/opdeploy/target"
)

func TestJudge(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	long := role{Name: "s", Replicas: 1}
	always := role{Name: "s", Replicas: 1, Restart: "always"}
	job := role{Name: "s", Replicas: 1, OneShot: true}
	running := func(h target.Health, startedAgo time.Duration) containerState {
		return containerState{ID: "a", Name: "a", State: target.StateRunning, Health: h, Starts: 1, StartedAt: now.Add(-startedAgo)}
	}
	exited := func(code int) containerState {
		return containerState{ID: "a", Name: "a", State: target.StateExited, ExitCode: code, LastExit: code, Starts: 1, Dies: 1, DiedAfterStart: 1}
	}
	fresh := map[string]baseline{"a": {Fresh: true, Starts: 0}} // started by this run, from no start before
	crashLooping := running(target.HealthNone, 10*time.Millisecond)
	crashLooping.Starts, crashLooping.Dies, crashLooping.DiedAfterStart, crashLooping.LastExit = 3, 2, 2, 1

	cases := []struct {
		name   string
		c      containerState
		r      role
		fresh  map[string]baseline
		ready  bool
		final  bool
		reason string // a part of the reason
	}{
		{"healthy", running(target.HealthHealthy, 0), long, nil, true, false, ""},
		{"no healthcheck, settled", running(target.HealthNone, 2*time.Second), long, nil, true, false, ""},
		{"no healthcheck, just started", running(target.HealthNone, 100*time.Millisecond), long, nil, false, false, "running for less than 1s"},
		{"unhealthy is not final", running(target.HealthUnhealthy, time.Minute), long, nil, false, false, "unhealthy"},
		{"health starting", running(target.HealthStarting, 0), long, nil, false, false, "healthcheck has not passed"},
		{"stopped member exited 0 is down, not done", exited(0), long, nil, false, true, "exited with code 0 (stopped"},
		{"killed member", exited(137), long, nil, false, true, "exited with code 137"},
		{"exited under restart: always, stopped by hand", exited(1), always, nil, false, true, "its restart policy does not start it again"},
		{"just died under restart: always: asking the engine", func() containerState { c := exited(1); c.ExitGuessed = true; return c }(), always, nil, false, false, "asking the engine"},
		{"restarting", containerState{ID: "a", State: target.StateRestarting, LastExit: 1}, always, nil, false, false, "restarting after exit code 1"},
		{"crash after our start, even if restarted", exited(1), always, fresh, false, true, "exited with code 1 after it was started"},
		{"crash loop hidden by restart: always", crashLooping, always, map[string]baseline{"a": {Fresh: true, Starts: 1}}, false, true, "exited with code 1 after it was started, and its restart policy started it again"},
		{"our own restart is not a crash", func() containerState {
			c := running(target.HealthNone, time.Minute)
			c.Starts, c.Dies, c.DiedAfterStart = 2, 1, 1
			return c
		}(), long, map[string]baseline{"a": {Fresh: true, Starts: 1}}, true, false, ""},
		{"fresh before its start event", exited(137), long, map[string]baseline{"a": {Fresh: true, Starts: 1}}, false, false, "starting"},
		{"one-shot completed", exited(0), job, nil, true, false, "completed"},
		{"one-shot failed", exited(3), job, nil, false, true, "exited with code 3"},
		{"one-shot still running", running(target.HealthNone, time.Minute), job, nil, false, false, "still running"},
		{"created", containerState{ID: "a", State: target.StateCreated}, long, nil, false, false, "never started"},
		{"paused", containerState{ID: "a", State: target.StatePaused}, long, nil, false, false, "paused"},
	}
	for _, tc := range cases {
		v := judge(tc.c, tc.r, tc.fresh, now)
		if v.Ready != tc.ready || v.Final != tc.final || !strings.Contains(v.Reason, tc.reason) {
			t.Errorf("%s: %+v, want ready %v final %v reason ~%q", tc.name, v, tc.ready, tc.final, tc.reason)
		}
	}
}

func TestReadinessWakesAtTheEndOfTheSettleWindow(t *testing.T) {
	now := time.Now()
	c := containerState{ID: "a", Name: "a", State: target.StateRunning, Health: target.HealthNone, Starts: 1, StartedAt: now}
	ready, recheck, err := readiness(role{Name: "s", Replicas: 1}, []string{"a"}, nil, []containerState{c}, now)
	if ready || err != nil || !recheck.Equal(now.Add(target.SettleWindow)) {
		t.Fatalf("ready %v recheck %v err %v", ready, recheck, err)
	}
	ready, _, err = readiness(role{Name: "s", Replicas: 1}, []string{"a"}, nil, []containerState{c}, recheck)
	if !ready || err != nil {
		t.Fatalf("at the recheck time: ready %v err %v", ready, err)
	}
}

func TestReadinessNeedsEveryReplica(t *testing.T) {
	c := containerState{ID: "a", Name: "a", State: target.StateRunning, Health: target.HealthHealthy, Starts: 1}
	ready, _, err := readiness(role{Name: "s", Replicas: 2}, []string{"a"}, nil, []containerState{c}, time.Now())
	if ready || err == nil || err.Error() != "no container for 1 of its 2 replicas (removed; up creates them)" {
		t.Errorf("one of two replicas: ready %v, err %v", ready, err)
	}
}

func TestReadinessFailsOnAFinalVerdict(t *testing.T) {
	c := containerState{ID: "a", Name: "p-s-1", State: target.StateExited, ExitCode: 2}
	_, _, err := readiness(role{Name: "s", Replicas: 1, OneShot: true}, []string{"a"}, nil, []containerState{c}, time.Now())
	if err == nil || err.Error() != "p-s-1 exited with code 2" {
		t.Errorf("err = %v", err)
	}
}

func TestOneShotServicesAreDeclared(t *testing.T) {
	p := loadCompose(t, `services:
  migrate: {image: x}
  app: {image: x, depends_on: {migrate: {condition: service_completed_successfully}, db: {condition: service_healthy}}}
  db: {image: x}
  seed: {image: x, labels: {dev.opdeploy.one-shot: "true"}}
  stray: {image: x, restart: "no"}
`)
	got := oneShotServices(p)
	for name, want := range map[string]bool{"migrate": true, "seed": true, "app": false, "db": false, "stray": false} {
		if got[name] != want {
			t.Errorf("%s: one-shot %v, want %v", name, got[name], want)
		}
	}
}

func TestConditionMet(t *testing.T) {
	dep := role{Name: "d", Replicas: 1}
	always := role{Name: "d", Replicas: 1, Restart: "always"}
	c := func(state target.State, health target.Health, exit int) containerState {
		return containerState{ID: "a", Name: "p-d-1", State: state, Health: health, ExitCode: exit, LastExit: exit, Starts: 1}
	}
	crashed := c(target.StateRunning, target.HealthStarting, 0)
	crashed.Starts, crashed.Dies, crashed.DiedAfterStart, crashed.LastExit = 3, 1, 2, 137 // our start (2), a crash, the policy's start (3)
	for _, tc := range []struct {
		name      string
		condition string
		dep       role
		c         containerState
		fresh     map[string]baseline
		met       bool
		err       string
	}{
		{"started: created is not started", "service_started", dep, c(target.StateCreated, target.HealthNone, 0), nil, false, ""},
		{"started: running", "service_started", dep, c(target.StateRunning, target.HealthNone, 0), nil, true, ""},
		{"started: exited counts as started", "service_started", dep, c(target.StateExited, target.HealthNone, 1), nil, true, ""},
		{"healthy: healthy", "service_healthy", dep, c(target.StateRunning, target.HealthHealthy, 0), nil, true, ""},
		{"healthy: starting", "service_healthy", dep, c(target.StateRunning, target.HealthStarting, 0), nil, false, ""},
		{"healthy: no healthcheck", "service_healthy", dep, c(target.StateRunning, target.HealthNone, 0), nil, false, "p-d-1 has no healthcheck, so it cannot become healthy"},
		{"healthy: exited for good", "service_healthy", dep, c(target.StateExited, target.HealthNone, 1), nil, false, "p-d-1 exited with code 1 before it was healthy"},
		{"healthy: just died, restart policy", "service_healthy", always, func() containerState {
			x := c(target.StateExited, target.HealthNone, 1)
			x.ExitGuessed = true
			return x
		}(), nil, false, ""},
		{"healthy: exited for good despite policy", "service_healthy", always, c(target.StateExited, target.HealthNone, 1), nil, false, "p-d-1 exited with code 1 before it was healthy"},
		{"healthy: crashed after our start", "service_healthy", always, crashed, map[string]baseline{"a": {Fresh: true, Starts: 1}}, false, "p-d-1 exited with code 137 before it was healthy"},
		{"healthy: before our start event", "service_healthy", dep, c(target.StateRunning, target.HealthHealthy, 0), map[string]baseline{"a": {Fresh: true, Starts: 1}}, false, ""},
		{"completed: exited 0", "service_completed_successfully", dep, c(target.StateExited, target.HealthNone, 0), nil, true, ""},
		{"completed: exited 3", "service_completed_successfully", dep, c(target.StateExited, target.HealthNone, 3), nil, false, "p-d-1 exited with code 3"},
		{"completed: still running", "service_completed_successfully", dep, c(target.StateRunning, target.HealthNone, 0), nil, false, ""},
	} {
		met, err := conditionMet(tc.condition, tc.dep, []string{"a"}, tc.fresh, []containerState{tc.c})
		if met != tc.met || (err == nil) != (tc.err == "") || (err != nil && err.Error() != tc.err) {
			t.Errorf("%s: met %v err %v; want %v %q", tc.name, met, err, tc.met, tc.err)
		}
	}
	if met, _ := conditionMet("service_healthy", role{Name: "d", Replicas: 0}, nil, nil, nil); !met {
		t.Error("a dependency scaled to 0 is not met")
	}
}

// A container the wait did not start that dies during the wait has
// crashed, even if its restart policy brings it back.
func TestJudgeCountsADieDuringTheWait(t *testing.T) {
	now := time.Now()
	c := containerState{ID: "a", Name: "a", State: target.StateRunning, Health: target.HealthNone, Starts: 3, Dies: 2, DiedAfterStart: 2, LastExit: 1, StartedAt: now.Add(-time.Minute)}
	always := role{Name: "s", Replicas: 1, Restart: "always"}
	if v := judge(c, always, map[string]baseline{"a": {Dies: 1}}, now); !v.Final || !strings.Contains(v.Reason, "exited with code 1") {
		t.Errorf("a die during the wait: %+v", v)
	}
	if v := judge(c, always, map[string]baseline{"a": {Dies: 2}}, now); !v.Ready {
		t.Errorf("no die during the wait: %+v", v)
	}
	if v := judge(c, always, nil, now); !v.Ready {
		t.Errorf("no wait at all (status): %+v", v)
	}
}
