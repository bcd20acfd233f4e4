package main

import (
	"errors"
	"flag"
	"io"
	"testing"
	"time"
)

func TestEnvName(t *testing.T) {
	for in, want := range map[string]string{
		"listen":         "TESTSVC_LISTEN",
		"healthy-after":  "TESTSVC_HEALTHY_AFTER",
		"ignore-sigterm": "TESTSVC_IGNORE_SIGTERM",
	} {
		if got := envName(in); got != want {
			t.Errorf("envName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestServeConfigEnvAndFlags(t *testing.T) {
	tests := []struct {
		name  string
		env   map[string]string
		args  []string
		check func(t *testing.T, c serveConfig)
	}{
		{
			name: "defaults",
			check: func(t *testing.T, c serveConfig) {
				if c.listen != ":8080" || c.name != "" || c.healthyAfter != 0 || c.unhealthy || c.exitAfter.set || c.exitCode != 0 || c.logEvery != 0 {
					t.Errorf("defaults: %+v", c)
				}
			},
		},
		{
			name: "env only",
			env: map[string]string{
				"TESTSVC_LISTEN": ":9000", "TESTSVC_NAME": "db", "TESTSVC_HEALTHY_AFTER": "2s",
				"TESTSVC_UNHEALTHY": "true", "TESTSVC_EXIT_AFTER": "0s", "TESTSVC_EXIT_CODE": "3",
				"TESTSVC_LOG_EVERY": "1s", "TESTSVC_STDERR_EVERY": "2s", "TESTSVC_DATA_FILE": "/d/starts",
				"TESTSVC_CRASH_LOOP": "1", "TESTSVC_IGNORE_SIGTERM": "true",
			},
			check: func(t *testing.T, c serveConfig) {
				want := serveConfig{
					listen: ":9000", name: "db", healthyAfter: 2 * time.Second, unhealthy: true,
					exitAfter: optDuration{0, true}, exitCode: 3, logEvery: time.Second, stderrEvery: 2 * time.Second,
					dataFile: "/d/starts", crashLoop: true, ignoreSIGTERM: true,
				}
				if c != want {
					t.Errorf("got %+v\nwant %+v", c, want)
				}
			},
		},
		{
			name: "flags win over env",
			env:  map[string]string{"TESTSVC_LISTEN": ":9000", "TESTSVC_HEALTHY_AFTER": "2s", "TESTSVC_UNHEALTHY": "true", "TESTSVC_EXIT_CODE": "3"},
			args: []string{"--listen", ":9001", "-healthy-after=5ms", "--unhealthy=false", "--exit-code", "4"},
			check: func(t *testing.T, c serveConfig) {
				if c.listen != ":9001" || c.healthyAfter != 5*time.Millisecond || c.unhealthy || c.exitCode != 4 {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "empty env counts as unset",
			env:  map[string]string{"TESTSVC_LISTEN": "", "TESTSVC_EXIT_AFTER": ""},
			check: func(t *testing.T, c serveConfig) {
				if c.listen != ":8080" || c.exitAfter.set {
					t.Errorf("got %+v", c)
				}
			},
		},
		{
			name: "unrelated variables are ignored",
			env:  map[string]string{"TESTSVC_COLOR": "blue", "LISTEN": ":1", "TESTSVC_URL": "http://x/"},
			check: func(t *testing.T, c serveConfig) {
				if c.listen != ":8080" {
					t.Errorf("got %+v", c)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseServeConfig(tc.args, tc.env, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

func TestServeConfigErrors(t *testing.T) {
	tests := []struct {
		env  map[string]string
		args []string
	}{
		{args: []string{"--nope"}},
		{args: []string{"--healthy-after", "soon"}},
		{args: []string{"--healthy-after", "-1s"}},
		{args: []string{"--exit-after", "-1s"}},
		{args: []string{"--exit-code", "256"}},
		{args: []string{"--log-every", "-1s"}},
		{args: []string{"positional"}},
		{env: map[string]string{"TESTSVC_HEALTHY_AFTER": "soon"}},
		{env: map[string]string{"TESTSVC_UNHEALTHY": "maybe"}},
		{env: map[string]string{"TESTSVC_EXIT_CODE": "x"}},
	}
	for _, tc := range tests {
		var out lockedBuffer
		_, err := parseServeConfig(tc.args, tc.env, &out)
		if !errors.Is(err, errUsage) || usageExitCode(err) != 2 {
			t.Errorf("args %q env %v: err = %v, want a usage error", tc.args, tc.env, err)
		}
		if out.String() == "" {
			t.Errorf("args %q env %v: nothing printed", tc.args, tc.env)
		}
	}
	// A bad environment value that a flag overrides is never parsed.
	c, err := parseServeConfig([]string{"--healthy-after", "1s"}, map[string]string{"TESTSVC_HEALTHY_AFTER": "soon"}, io.Discard)
	if err != nil || c.healthyAfter != time.Second {
		t.Errorf("flag over bad env: got %+v, %v", c, err)
	}

	_, err = parseServeConfig([]string{"-h"}, nil, io.Discard)
	if !errors.Is(err, flag.ErrHelp) || usageExitCode(err) != 0 {
		t.Errorf("-h: err = %v, want flag.ErrHelp", err)
	}
}

func TestProbeConfigEnvAndFlags(t *testing.T) {
	tests := []struct {
		env     map[string]string
		args    []string
		url     string
		timeout time.Duration
	}{
		{url: "http://127.0.0.1:8080/health", timeout: 2 * time.Second},
		{env: map[string]string{"TESTSVC_LISTEN": ":9191"}, url: "http://127.0.0.1:9191/health", timeout: 2 * time.Second},
		{env: map[string]string{"TESTSVC_LISTEN": ":9191", "TESTSVC_URL": "http://env/health", "TESTSVC_TIMEOUT": "1s"}, url: "http://env/health", timeout: time.Second},
		{env: map[string]string{"TESTSVC_URL": "http://env/health", "TESTSVC_TIMEOUT": "1s"}, args: []string{"--url", "http://flag/", "--timeout", "3s"}, url: "http://flag/", timeout: 3 * time.Second},
	}
	for _, tc := range tests {
		c, err := parseProbeConfig(tc.args, tc.env, io.Discard)
		if err != nil {
			t.Fatalf("env %v args %q: %v", tc.env, tc.args, err)
		}
		if c.url != tc.url || c.timeout != tc.timeout {
			t.Errorf("env %v args %q: got %+v, want url %s timeout %v", tc.env, tc.args, c, tc.url, tc.timeout)
		}
	}
}

func TestDefaultProbeURL(t *testing.T) {
	for in, want := range map[string]string{
		"":               "http://127.0.0.1:8080/health",
		":8080":          "http://127.0.0.1:8080/health",
		":9090":          "http://127.0.0.1:9090/health",
		"0.0.0.0:9090":   "http://127.0.0.1:9090/health",
		"[::]:9090":      "http://127.0.0.1:9090/health",
		"127.0.0.2:81":   "http://127.0.0.2:81/health",
		"[::1]:81":       "http://[::1]:81/health",
		"9090":           "http://127.0.0.1:9090/health",
		"localhost:7000": "http://localhost:7000/health",
	} {
		if got := defaultProbeURL(in); got != want {
			t.Errorf("defaultProbeURL(%q) = %q, want %q", in, got, want)
		}
	}
}
